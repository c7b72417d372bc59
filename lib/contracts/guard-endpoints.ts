/**
 * The guard's HTTP contract, shared by the guard (which serves it), the boot scripts (which ask
 * it), the load balancers (which probe it) and the drill (which samples it): one port, four paths.
 */

/** The port the guard serves on unless `guard.port` / `health.port` says otherwise. */
export const DEFAULT_GUARD_PORT = 9180;

/** 200 only while this node is active, ready and inside its renew deadline; load balancers probe it. */
export const GUARD_HEALTH_PATH = '/health';

/** 200 whenever the guard runs (any role); instance repair watches it, never /health. */
export const GUARD_LIVE_PATH = '/live';

/** Prometheus text format. */
export const GUARD_METRICS_PATH = '/metrics';

/** POST from loopback only: the active node hands over (202, the handover runs on). */
export const GUARD_STEP_DOWN_PATH = '/step-down';
