/** A minimal valid guard config (L = 6 s, exec mode), as properties lines, for config tests. */
export const BASE_GUARD_LINES: readonly string[] = [
  'cluster.name=print',
  'node.id=node-a',
  'database.url=postgres://guard@127.0.0.1:5432/guard',
  'database.password-source=env:PGPASSWORD',
  'high-availability-guard.fail-over-interval-secs=6',
  'service.stop-timeout-secs=2',
  'service.command=node app.js',
];
