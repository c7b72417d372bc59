/**
 * Environment for the guard's own process, set by its service unit (`Environment=` lines in the
 * systemd unit) and by the benchmark, so a measured footprint is the deployed one: two malloc
 * arenas instead of one per thread (V8 and libuv threads), trimming a few MB. The guard's V8
 * flags are baked into the single executable (GUARD_EXEC_ARGV in lib/synth/guard-build.ts), not
 * set here through NODE_OPTIONS, which every Node app the guard starts would inherit.
 */
export const GUARD_PROCESS_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
};
