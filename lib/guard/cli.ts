import type { Command as CommandType } from 'commander';
import { readFileSync } from 'fs';
import * as http from 'http';
import { formatProblem, ValidationError } from '../problems/problems';
import { DEFAULT_CONFIG_FILE, loadGuardConfig, type GuardConfig } from './config';
import { systemClock } from './election/clock';
import { createStore, runGuard } from './daemon';
import { jsonLog } from './json-log';
import { requireCommander } from './chunks';
import { waitForMaintenance } from './election/maintenance';
import { initAppDatabase } from './app/app-database-cli';
import type { ClusterStatus } from './lease/store';
import { GUARD_VERSION } from './version';
import { registerWindowsCommands } from './platform/windows/windows-commands';
import { GUARD_STEP_DOWN_PATH } from '../contracts/guard-endpoints';

/** Where the CLI writes; injected so tests can capture output. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_CONFIG = 2;

/** Bad config or usage: exit 2 with one line per problem. */
class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

function loadConfig(file: string, env: NodeJS.ProcessEnv): GuardConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`--config: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
  }
  const r = loadGuardConfig(text, env);
  if (!r.ok) throw new ConfigError(r.problems.map(formatProblem));
  return r.config;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Human-readable `status`. */
export function formatStatus(s: ClusterStatus): string[] {
  const lines = [
    `cluster ${s.cluster}${s.lease.maintenance ? ' (MAINTENANCE)' : ''}`,
    s.lease.remainingMs > 0
      ? `active: ${s.lease.holder}${s.lease.holderInstance ? ` (instance ${s.lease.holderInstance})` : ''} (term ${s.lease.term}, lease ${secs(s.lease.remainingMs)} left)`
      : `active: none (term ${s.lease.term}, lease expired)`,
    'members:',
    ...s.members.flatMap((m) => [
      `  ${m.node.padEnd(24)} ${m.role.padEnd(12)} term ${String(m.term).padEnd(6)} seen ${secs(m.lastSeenMsAgo)} ago  v${m.version}`,
      ...(m.duplicate ? [`    DUPLICATE NODE ID: instances ${m.instance ?? '?'} and ${m.duplicate.instance} both beat under ${m.node} (reported ${secs(m.duplicate.seenMsAgo)} ago)`] : []),
    ]),
    'events (newest first):',
    ...s.events.map((e) => `  ${e.at}  ${e.node.padEnd(24)} ${e.event.padEnd(16)} term ${e.term}${e.detail ? `  ${e.detail}` : ''}`),
  ];
  return lines;
}

function postStepDown(port: number): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: GUARD_STEP_DOWN_PATH, method: 'POST', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** `run`: the daemon, until SIGTERM/SIGINT (Ctrl+C from the Windows service host). */
async function runDaemon(c: GuardConfig): Promise<void> {
  const log = jsonLog({ cluster: c.clusterName, node: c.nodeId }, undefined, c.logLevel);
  const guard = await runGuard(c, log);
  const onSignal = (sig: string) => {
    log.info({ signal: sig }, 'signal received');
    void guard.shutdown();
  };
  process.once('SIGTERM', onSignal);
  // Windows: the service host stops the guard with Ctrl+C (SIGINT); Ctrl+Break is SIGBREAK
  process.once('SIGINT', onSignal);
  if (process.platform === 'win32') process.once('SIGBREAK', onSignal);
  await guard.done;
  log.info({}, 'stopped');
}

/**
 * The config file of a plain `run [-c FILE | --config FILE | --config=FILE]`, the command line
 * every service unit uses; undefined for anything else (commander parses those). The daemon
 * skips commander this way: a module loaded once stays resident for the guard's whole life.
 */
export function daemonConfigFile(argv: readonly string[]): string | undefined {
  if (argv[0] !== 'run') return undefined;
  if (argv.length === 1) return DEFAULT_CONFIG_FILE;
  if (argv.length === 2 && argv[1].startsWith('--config=') && argv[1].length > '--config='.length) return argv[1].slice('--config='.length);
  if (argv.length === 3 && (argv[1] === '-c' || argv[1] === '--config') && !argv[2].startsWith('-')) return argv[2];
  return undefined;
}

/** Exit code of a failed command, its message written to `io.err`. */
function failure(e: unknown, io: CliIo): number {
  if (e instanceof ConfigError) {
    e.lines.forEach((l) => io.err(l));
    return EXIT_CONFIG;
  }
  if (e instanceof ValidationError) {
    e.problems.forEach((p) => io.err(formatProblem(p)));
    return EXIT_CONFIG;
  }
  io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT_RUNTIME;
}

/**
 * `failover-guard` CLI. Resolves with the exit code: 0 ok, 2 bad config or usage (one line per
 * problem, naming the key), 1 runtime failure.
 */
export async function main(argv: readonly string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l), env: process.env }): Promise<number> {
  const daemonConfig = daemonConfigFile(argv);
  if (daemonConfig !== undefined) {
    try {
      await runDaemon(loadConfig(daemonConfig, io.env));
      return EXIT_OK;
    } catch (e) {
      return failure(e, io);
    }
  }
  // Loaded here, not at the top: the daemon's path above never needs it.
  const { Command, CommanderError } = requireCommander();
  let code = EXIT_OK;
  const program: CommandType = new Command('failover-guard')
    .description('Keeps at most one application server active, using a lease row in the database.')
    .version(GUARD_VERSION, '-V, --version')
    .option('-c, --config <file>', 'properties file', DEFAULT_CONFIG_FILE)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError(false);
  const config = () => loadConfig(program.opts<{ config: string }>().config, io.env);
  const withStore = async <T>(fn: (store: ReturnType<typeof createStore>) => Promise<T>): Promise<T> => {
    const store = createStore(config());
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };

  program
    .command('validate')
    .description('check the config (keys, values, timing invariants) and print the resolved timings')
    .action(() => {
      const c = config();
      const t = c.timings;
      io.out(
        `ok: cluster ${c.clusterName}, node ${c.nodeId}, L=${t.failOverIntervalSecs}s R=${t.renewPeriodSecs}s Q=${t.queryTimeoutSecs}s D=${t.renewDeadlineSecs}s stop=${t.stopTimeoutSecs}s startup=${t.startupTimeoutSecs}s drain=${c.drainSecs}s`,
      );
    });

  program
    .command('run')
    .description('run the guard (elect, supervise the app, serve /health)')
    .action(() => runDaemon(config()));

  program
    .command('init-db')
    .description("create the lease, members and events tables and this cluster's lease row; with app.database.url also the app's user and database")
    .action(async () => {
      await withStore(async (s) => {
        await s.init();
        io.out('ok: tables ready');
      });
      const c = config();
      if (c.app?.database) io.out(`ok: app database: ${await initAppDatabase(c)}`);
    });

  program
    .command('status')
    .description('active node, term, lease remaining, members, last 10 events')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withStore(async (s) => {
        const st = await s.status(10);
        if (opts.json) io.out(JSON.stringify(st, null, 2));
        else formatStatus(st).forEach((l) => io.out(l));
      }),
    );

  program
    .command('step-down')
    .description("ask this node's guard (on 127.0.0.1:<health.port>) to hand over")
    .action(async () => {
      const c = config();
      const r = await postStepDown(c.healthPort);
      if (r.code !== 202) throw new Error(`step-down: HTTP ${r.code} ${r.body}`);
      const body = JSON.parse(r.body) as { steppingDown: boolean };
      io.out(body.steppingDown ? 'ok: stepping down' : 'ok: this node is not active; nothing to hand over');
    });

  program
    .command('maintenance')
    .description('cluster-wide maintenance: every guard stops its app and holds (on), or resumes (off)')
    .argument('<on|off>')
    .option('--no-wait', 'on: return at once instead of waiting until every app has stopped')
    .action((value: string, opts: { wait: boolean }) => {
      if (value !== 'on' && value !== 'off') throw new ConfigError([`maintenance: expected on or off, got "${value}"`]);
      const c = config();
      return withStore(async (s) => {
        await s.setMaintenance(value === 'on');
        if (value === 'off' || !opts.wait) return io.out(`ok: maintenance ${value}`);
        // the active node drains, stops its app and releases; passive nodes note it at their next poll
        const t = c.timings;
        const timeoutSecs = c.drainSecs + t.stopTimeoutSecs + 3 * t.renewPeriodSecs + t.failOverIntervalSecs;
        const pending = await waitForMaintenance(s, t, systemClock, timeoutSecs * 1000);
        if (pending.length > 0) throw new Error(`maintenance is on, but after ${timeoutSecs}s not every app is known to be stopped: ${pending.join('; ')}`);
        io.out('ok: maintenance on; every app is stopped');
      });
    });

  registerWindowsCommands(program, io.out, () => ({ file: program.opts<{ config: string }>().config, config: config() }));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    code = e instanceof CommanderError ? (e.exitCode === 0 ? EXIT_OK : EXIT_CONFIG) : failure(e, io);
  }
  return code;
}
