/**
 * failover-guard as a library: what a program that embeds the guard needs, and nothing of its
 * inner workings (SQL text, process-group helpers, platform commands), so they can change without
 * breaking a user. Listed by name: a new export is a decision, never a side effect.
 */

// The daemon and its command line
export { runGuard, createStore, createLeaseStore, createSupervisor, withAppHooks, type RunningGuard } from './daemon';
export { main as guardCliMain, EXIT_OK, EXIT_CONFIG, EXIT_RUNTIME, type CliIo } from './cli';
export { GUARD_VERSION } from './version';

// Configuration
export { loadGuardConfig, parseProperties, envName, DEFAULT_CONFIG_FILE, type GuardConfig, type ServiceConfig, type ConfigResult } from './config';
export { DEFAULT_GUARD_PORT } from '../contracts/guard-endpoints';
export type { ServiceMode } from '../contracts/timing';
export type { AppHookConfig } from './app/hook-config';
export type { Log, LogLevel } from './log';
export { jsonLog } from './json-log';
export { systemClock, type Clock } from './election/clock';

// The lease store
export type { LeaseStore, LeaseStoreProps, LeaseView, AcquireResult, RenewResult, Beat, MemberStatus, GuardEvent, EventKind, ClusterStatus } from './lease/store';
export { PgLeaseStore, type PgLeaseStoreProps } from './lease/pg-store';
export { MysqlLeaseStore, type MysqlLeaseStoreProps } from './lease/mysql-store';
export { resolvePassword, type PasswordDeps } from './lease/password';

// The election
export { Elector, electorProblems, type ElectorProps, type HealthSnapshot, type RoleChange } from './election/elector';
export type { Role } from './election/roles';

// Supervisors: the contract and the three modes
export { ProcessSupervisor, type Supervisor, type ExitListener, type StartedProcess } from './app/supervisor';
export type { RunCommand, CommandOptions, CommandResult } from './app/run-command';
export { ExecSupervisor, type ExecSupervisorProps } from './app/exec-supervisor';
export { ServiceSupervisor, type ServiceSupervisorProps, type ServiceControl, type ServiceState } from './app/service-supervisor';
export { systemdControl, type SystemdControlOptions } from './platform/systemd/systemd-control';
export { windowsServiceControl } from './platform/windows/windows-service-control';
export { WindowsExecSupervisor, type WindowsExecSupervisorProps } from './platform/windows/windows-exec-supervisor';
export { HookedSupervisor, HookRunner, withHooks, type HookRun, type HookRunnerProps, type HookedSupervisorProps } from './app/hooks';

// Endpoints
export { createHealthServer, type HealthServerProps } from './health-server';
export { GuardMetrics } from './metrics';
