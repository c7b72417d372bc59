import type { Server } from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { systemClock, type Clock } from './election/clock';
import type { GuardConfig } from './config';
import { Elector, type HealthSnapshot, type RoleChange } from './election/elector';
import type { Log } from './log';
import { alive, ExecSupervisor } from './app/exec-supervisor';
import { createHealthServer } from './health-server';
import { GuardMetrics } from './metrics';
import { runNotify } from './notify';
import { defaultPasswordDeps, resolvePassword } from './lease/password';
import { APP_KEYS } from '../contracts/hook-settings';
import { PgLeaseStore } from './lease/pg-store';
import { MysqlLeaseStore } from './lease/mysql-store';
import { databaseKind, databaseUrlProblem } from './lease/database-url';
import { ValidationError } from '../problems/problems';
import { GUARD_KEYS } from '../contracts/guard-settings';
import { execWatchdogSecs } from '../contracts/timing';
import { SystemdNotifier } from './platform/systemd/sd-notify';
import { systemdControl } from './platform/systemd/systemd-control';
import { windowsServiceControl } from './platform/windows/windows-service-control';
import { ServiceSupervisor } from './app/service-supervisor';
import type { LeaseStore, LeaseStoreProps } from './lease/store';
import type { Supervisor } from './app/supervisor';
import { GUARD_VERSION } from './version';
import { urlIdentity } from './lease/sql-session';
import { HookRunner, withHooks } from './app/hooks';
import { WindowsExecSupervisor } from './platform/windows/windows-exec-supervisor';
import { WindowsServiceWatch } from './platform/windows/windows-app-watch';
import { claimInstanceFile, newInstanceId } from './lease/holder-identity';

/**
 * The lease store for `database.url`, the one factory behind run, status, init-db and
 * maintenance: `postgres://`/`postgresql://` → PostgreSQL, `mysql://`/`mariadb://` → MySQL or
 * MariaDB. Anything else is a config problem naming the key (exit 2).
 */
export function createStore(config: GuardConfig, log?: Log, identity: { instance?: string; predecessor?: string } = {}): LeaseStore {
  const deps = defaultPasswordDeps();
  return createLeaseStore({
    appUser: config.app?.database ? urlIdentity(config.app.database.url).user : undefined,
    log,
    ...identity,
    url: config.databaseUrl ?? '',
    cluster: config.clusterName,
    node: config.nodeId,
    version: GUARD_VERSION,
    queryTimeoutSecs: config.timings.queryTimeoutSecs,
    password: () => resolvePassword(config.passwordSource, deps),
  });
}

/** The store for a URL's scheme; a URL no store can use throws a {@link ValidationError} naming `database.url`. */
export function createLeaseStore(props: LeaseStoreProps): LeaseStore {
  const problem = props.url ? databaseUrlProblem(props.url) : 'is required (or set high-availability-guard.enabled=N)';
  if (problem) throw new ValidationError('config', [{ path: GUARD_KEYS.databaseUrl, message: problem }]);
  return databaseKind(props.url) === 'mysql' ? new MysqlLeaseStore(props) : new PgLeaseStore(props);
}

/** pid file of the exec-mode app, per cluster and node (`TMPDIR` decides where). */
export function pidFilePath(config: GuardConfig): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(tmpdir(), `failover-guard-${safe(config.clusterName)}-${safe(config.nodeId)}.pid`);
}

export function createSupervisor(config: GuardConfig, log: Log, clock: Clock = systemClock): Supervisor {
  const s = config.service;
  // an app exit is noticed within one renew period, as the lease would be
  const watchMs = config.timings.renewPeriodSecs * 1000;
  switch (s.mode) {
    case 'exec':
      if (process.platform === 'win32') return new WindowsExecSupervisor({ command: s.command!, ready: s.ready, stopTimeoutSecs: s.stopTimeoutSecs, log });
      return new ExecSupervisor({
        command: s.command!,
        ready: s.ready,
        stopTimeoutSecs: s.stopTimeoutSecs,
        pidFile: pidFilePath(config),
        cluster: config.clusterName,
        node: config.nodeId,
        log,
        // single-server mode has no lease to protect; a stalled guard there fences nothing
        watchdogSecs: config.enabled ? execWatchdogSecs(config.timings) : undefined,
      });
    case 'systemd':
      return new ServiceSupervisor({ control: systemdControl(s.unit!), ready: s.ready, stopTimeoutSecs: s.stopTimeoutSecs, log, clock, watchMs });
    case 'windows-service':
      return new WindowsServiceWatch(new ServiceSupervisor({ control: windowsServiceControl(s.name!), ready: s.ready, stopTimeoutSecs: s.stopTimeoutSecs, log, clock, watchMs }), {
        service: s.name!,
        stopTimeoutSecs: s.stopTimeoutSecs,
        markerFile: pidFilePath(config).replace(/\.pid$/, '.watch'),
        log,
      });
  }
}

/** The profile's hooks (before start, after ready) around the supervisor, when the config has any. */
export function withAppHooks(inner: Supervisor, config: GuardConfig, log: Log, instance: string): Supervisor {
  const app = config.app;
  if (!app) return inner;
  const deps = defaultPasswordDeps();
  return withHooks(inner, {
    hooks: app,
    log,
    startupTimeoutSecs: config.timings.startupTimeoutSecs,
    runner: () =>
      new HookRunner({
        cluster: config.clusterName,
        node: config.nodeId,
        instance,
        app,
        masterUrl: config.databaseUrl,
        masterPassword: () => resolvePassword(config.passwordSource, deps),
        appPassword: () => resolvePassword(app.database?.passwordSource, deps, APP_KEYS.passwordSource),
        log,
        queryTimeoutSecs: Math.max(config.timings.queryTimeoutSecs, 5),
      }),
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  await closed;
}

export interface RunningGuard {
  /** Resolves when the guard has shut down (after {@link RunningGuard.shutdown} or a signal). */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * `failover-guard run`: cleans up a leftover app, prepares the tables, serves health and runs
 * the election until SIGTERM/SIGINT, then hands over gracefully.
 */
export async function runGuard(config: GuardConfig, log: Log, clock: Clock = systemClock, env: NodeJS.ProcessEnv = process.env): Promise<RunningGuard> {
  const base = createSupervisor(config, log, clock);
  // one identity for this process's lease and the hooks that run under it
  const instance = newInstanceId();
  const supervisor = withAppHooks(base, config, log, instance);
  const predecessor = config.enabled ? claimInstanceFile(pidFilePath(config).replace(/\.pid$/, '.instance'), instance, alive) : undefined;
  await supervisor.cleanup();
  // Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 pings from this event loop.
  const notifier = new SystemdNotifier({ env, log });
  const notify = (change: RoleChange) => {
    if (config.notifyCommand) runNotify(config.notifyCommand, change, config.clusterName, config.nodeId, log);
  };

  if (!config.enabled) return runStandalone(config, supervisor, log, notify, notifier, clock);

  const store = createStore(config, log, { instance, predecessor });
  // the elector is built below; the gauges are read only on a scrape, once it exists
  const metrics = new GuardMetrics(() => store.statements, {
    duplicateNodeId: () => store.duplicateNodeId !== undefined,
    appUnconfirmed: () => elector.appUnconfirmed(),
  });
  const elector: Elector = new Elector({
    cluster: config.clusterName,
    node: config.nodeId,
    timings: config.timings,
    serviceMode: config.service.mode,
    drainSecs: config.drainSecs,
    store,
    supervisor,
    clock,
    log,
    onChange: (c) => {
      metrics.onChange(c);
      notify(c);
    },
    onRenew: (ms) => metrics.onRenew(ms),
  });
  const server = createHealthServer({ snapshot: () => elector.snapshot(), stepDown: () => elector.stepDown(), metrics });
  await listen(server, config.healthPort, config.healthBind);
  notifier.ready();
  log.info({ port: config.healthPort, bind: config.healthBind, node: config.nodeId, cluster: config.clusterName, version: GUARD_VERSION, timings: config.timings }, 'guard started');
  // The database may not be reachable yet (still starting): retry, serving /live meanwhile.
  for (;;) {
    try {
      await store.init();
      break;
    } catch (e) {
      log.warn({ err: String(e) }, 'database not ready; retrying');
      await clock.sleep(config.timings.renewPeriodSecs * 1000);
    }
  }
  const loop = elector.run();
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    (shuttingDown ??= (async () => {
      log.info({}, 'shutting down');
      notifier.stopping();
      await elector.shutdown();
      await loop;
      await store.close();
      await closeServer(server);
      notifier.close();
    })());
  return { done: loop.then(() => shuttingDown), shutdown };
}

/** `high-availability-guard.enabled=N`: the app runs unconditionally; /health follows readiness. */
async function runStandalone(config: GuardConfig, supervisor: Supervisor, log: Log, notify: (c: RoleChange) => void, notifier: SystemdNotifier, clock: Clock): Promise<RunningGuard> {
  let ready = false;
  const metrics = new GuardMetrics(() => 0);
  metrics.setRole('standalone');
  const snapshot = (): HealthSnapshot => ({
    cluster: config.clusterName,
    node: config.nodeId,
    role: 'standalone',
    term: 0,
    holder: config.nodeId,
    ready,
    leaseRemainingMs: 0,
    appUnconfirmed: false,
    healthy: ready,
  });
  const server = createHealthServer({ snapshot, stepDown: async () => undefined, metrics });
  await listen(server, config.healthPort, config.healthBind);
  notifier.ready();
  await supervisor.start({ FAILOVER_GUARD_TERM: '0', FAILOVER_GUARD_NODE: config.nodeId, FAILOVER_GUARD_CLUSTER: config.clusterName });
  notify({ event: 'became-active', role: 'standalone', term: 0 });
  log.info({}, 'single-server mode: app started without a lease');
  const timer = setInterval(() => void supervisor.ready().then((r) => (ready = r)), 1000);
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  return {
    done,
    shutdown: async () => {
      clearInterval(timer);
      ready = false;
      notifier.stopping();
      await supervisor.stop(clock.now() + config.timings.stopTimeoutSecs * 1000);
      await closeServer(server);
      notifier.close();
      resolveDone();
    },
  };
}
