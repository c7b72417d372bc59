/** What a node is doing, as shown in /health, `status` and the members table. */
export type Role =
  | 'passive' // polling, may acquire
  | 'starting' // holds the lease, app not ready yet
  | 'active' // holds the lease, app ready
  | 'draining' // holds the lease, handing over (503, then stop, then release)
  | 'fenced' // lost contact past the renew deadline; app stopped
  | 'backoff' // released recently (step-down, startup timeout); not acquiring for a while
  | 'maintenance' // cluster-wide maintenance: app stopped, holding
  | 'standalone' // high-availability-guard.enabled=N: app runs unconditionally
  | 'stopped'; // the guard is shutting down
