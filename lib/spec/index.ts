// The public names of failover-constructs (and failover-constructs/spec), by name: the cluster
// spec and its profiles, the timing presets and defaults, the guard's endpoints and the database
// URL. The contracts between the constructs and the guard (guard-settings, hook-settings, the
// timing maths behind them, tags, tokens) are internal: lib/ imports them by module.
export { parseClusterSpec, type ClusterSpec, type ClusterSpecInput } from './cluster-spec';
export type { AppDatabase, AppHook, AppHookInput, AppHooks, AppPort, AppProfile, AppProfileInput, PrintDeploy, Readiness, SharedItem } from './profile';
export { papercut, type PaperCutOptions } from './papercut';
export { thinprint, THINPRINT_CLIENT_PORT, THINPRINT_SERVER_PORT, type ThinPrintClusterMode, type ThinPrintOptions } from './thinprint';
export { custom, type CustomProfileOptions } from './custom';
export {
  FAST_PRESET,
  FAST_PRESET_AZURE,
  DEFAULT_FAIL_OVER_INTERVAL_SECS,
  DEFAULT_STARTUP_TIMEOUT_SECS,
  DEFAULT_STOP_TIMEOUT_SECS,
  MIN_FAIL_OVER_INTERVAL_SECS,
  deriveGuardTimings,
  type GuardTimings,
  type GuardTimingsInput,
  type HealthCheckTimings,
  type ServiceMode,
  type TimingPreset,
} from '../contracts/timing';
export { ValidationError, type Problem } from '../problems/problems';
// The zod schemas the spec types are inferred from (their declarations name them): a tool may
// validate a spec file with them before synthesis, as parseClusterSpec does.
export { clusterSpecSchema, databaseSchema, healthCheckSchema, loadBalancerSchema, storageSchema } from './cluster-spec';
export { appDatabaseSchema, hookSchema, hooksSchema, portSchema, printDeploySchema, profileSchema, readinessSchema, sharedItemSchema } from './profile';
export type { GuardDatabaseSettings } from '../contracts/guard-settings';
export { DEFAULT_GUARD_PORT, GUARD_HEALTH_PATH, GUARD_LIVE_PATH, GUARD_METRICS_PATH, GUARD_STEP_DOWN_PATH } from '../contracts/guard-endpoints';
export { databaseUrl, DEFAULT_DATABASE_PORT, type CloudDatabaseCa, type DatabaseEngine } from '../contracts/database-url';
