import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { defaultStartupTimeoutSecs } from '../../lib/contracts/hook-settings';
import { papercutHooks } from '../../lib/spec/papercut';
import type { AppHook } from '../../lib/spec/profile';
import type { TestDatabase } from './database';
import type { TestPostgres } from './postgres';
import { activeNodes, GuardNode } from './guard-cluster';
import { waitFor } from './wait';
import { freePort } from './ports';

export const STANDIN = join(__dirname, '..', 'fixtures', 'papercut', 'standin.js');
/** Where papercut() puts `[app-path]` on Linux; the stand-in's hooks swap it for the node's dir. */
const VENDOR_APP_PATH = '/home/papercut';

export interface StandinCall {
  readonly tool: 'db-tools' | 'server-command';
  readonly args: string[];
  readonly node?: string;
  readonly term?: string;
}

/**
 * One node's PaperCut install in the vendor's layout (`[app-path]/server/server.properties`,
 * `server/bin/linux-x64/{app-server,db-tools,server-command}`, `providers/print-deploy/…`,
 * `client/linux/config.properties`), with server.properties linked to the shared file as the
 * boot script links it. Every tool is the stand-in script; calls go to `calls` (one JSON line each).
 */
export function installStandin(appPath: string, opts: { share: string; port: number; calls: string }): { appPath: string; bin: string; appServer: string } {
  const bin = join(appPath, 'server', 'bin', 'linux-x64');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['app-server', 'db-tools', 'server-command']) {
    const file = join(bin, tool);
    writeFileSync(
      file,
      `#!/bin/sh\nSTANDIN_CALLS='${opts.calls}' exec '${process.execPath}' '${STANDIN}' ${tool} --install '${appPath}' --port ${opts.port} -- "$@"\n`,
    );
    chmodSync(file, 0o755);
  }
  const shared = join(opts.share, 'server.properties');
  if (!existsSync(shared)) writeFileSync(shared, '# PaperCut server.properties (stand-in)\nserver.port=9191\n#database.type=Internal\n', { mode: 0o600 });
  symlinkSync(shared, join(appPath, 'server', 'server.properties'));
  const pd = join(appPath, 'providers', 'print-deploy', 'linux-x64');
  mkdirSync(join(pd, 'data', 'config'), { recursive: true });
  writeFileSync(join(pd, 'data', 'config', 'client.conf.toml'), '[client]\nPort = 9263\n');
  writeFileSync(join(pd, 'default-pc-print-deploy.conf'), '{\n  "ScheduledTasks": {\n    "StartupRandomDelaySecs": 300\n  },\n  "StartupTasks": {\n    "StartupRandomDelaySecs": 60\n  }\n}\n');
  mkdirSync(join(appPath, 'client', 'linux'), { recursive: true });
  writeFileSync(join(appPath, 'client', 'linux', 'config.properties'), 'server-name=old-server\nserver-address=10.0.0.5\nserver-port=9191\n');
  return { appPath, bin, appServer: join(bin, 'app-server') };
}

/** papercut()'s real hooks, pointed at a stand-in install (and run as the test's own user). */
export function standinHooks(appPath: string): { beforeStart: AppHook[]; afterReady: AppHook[] } {
  const move = (h: AppHook): AppHook => {
    const swap = (s: string) => (s.startsWith(VENDOR_APP_PATH + '/') ? appPath + s.slice(VENDOR_APP_PATH.length) : s);
    const copy = JSON.parse(JSON.stringify(h)) as AppHook & { user?: string; argv?: string[]; file?: string };
    delete copy.user;
    if (copy.argv) copy.argv = copy.argv.map(swap);
    if (copy.file) copy.file = swap(copy.file);
    return copy;
  };
  const hooks = papercutHooks('linux');
  return { beforeStart: hooks.beforeStart.map(move), afterReady: hooks.afterReady.map(move) };
}

/** Guard config lines for hooks: `hook.before-start.N=<json>`. */
export function hookLines(hooks: { beforeStart: AppHook[]; afterReady: AppHook[] }): string[] {
  return [
    ...hooks.beforeStart.map((h, i) => `hook.before-start.${i + 1}=${JSON.stringify(h)}`),
    ...hooks.afterReady.map((h, i) => `hook.after-ready.${i + 1}=${JSON.stringify(h)}`),
  ];
}

export function readCalls(file: string): StandinCall[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StandinCall);
}

export interface StandinClusterOptions {
  /** Guard nodes. @default 2 */
  readonly nodes?: number;
  /** @default 'fc11-papercut' */
  readonly cluster?: string;
  /** The load balancer's name (`app.network-address`). @default 'papercut-lb.example.internal' */
  readonly lbName?: string;
  /** The app secret's first value. @default a fixed test value with characters properties must escape */
  readonly password?: string;
}

/**
 * N real guards (the CLI bundle) running papercut()'s hooks against stand-in installs on one
 * database (the tests' and the PaperCut drill's fixture): the share holds server.properties,
 * the app secret is a file, the guard's user is the master user.
 */
export class StandinCluster {
  readonly postgres: boolean;
  readonly share: string;
  readonly calls: string;
  readonly appPasswordFile: string;
  readonly lbName: string;

  private constructor(
    readonly db: TestDatabase,
    readonly dir: string,
    readonly nodes: GuardNode[],
    lbName: string,
  ) {
    this.postgres = db.name === 'PostgreSQL';
    this.share = join(dir, 'share');
    this.calls = join(dir, 'calls.jsonl');
    this.appPasswordFile = join(dir, 'app-password');
    this.lbName = lbName;
  }

  static async create(db: TestDatabase, dir: string, bundle: string, opts: StandinClusterOptions = {}): Promise<StandinCluster> {
    const lbName = opts.lbName ?? 'papercut-lb.example.internal';
    const c = new StandinCluster(db, dir, [], lbName);
    mkdirSync(c.share, { recursive: true });
    writeFileSync(c.appPasswordFile, (opts.password ?? 'first-Secret\\with:odd=chars#1') + '\n', { mode: 0o600 });
    // the app's own user, verifying the server as the guard does
    const appUrl = db.userUrl('papercut_app', 'papercut_app');
    for (let i = 0; i < (opts.nodes ?? 2); i++) {
      const name = `pc-${String.fromCharCode(97 + i)}`;
      const appPort = await freePort();
      const app = installStandin(join(dir, name, 'papercut'), { share: c.share, port: appPort, calls: c.calls });
      const hooks = standinHooks(app.appPath);
      c.nodes.push(
        await GuardNode.create(name, opts.cluster ?? 'fc11-papercut', bundle, dir, db, {
          appPort,
          service: { command: `exec ${app.appServer}`, ready: `http://127.0.0.1:${appPort}/app` },
          extra: [
            // what the constructs write for these hooks (the hooks must fit in it, or the guard refuses the config)
            `high-availability-guard.startup-timeout-secs=${defaultStartupTimeoutSecs(hooks)}`,
            `app.database.url=${appUrl}`,
            `app.database.password-source=file:${c.appPasswordFile}`,
            `app.network-address=${lbName}`,
            ...hookLines(hooks),
          ],
        }),
      );
    }
    return c;
  }

  /** The one node answering 200 (waits for exactly one). */
  async active(among: GuardNode[] = this.nodes, timeoutMs = 30000): Promise<GuardNode> {
    await waitFor('exactly one active node', async () => (await activeNodes(among)).length === 1, timeoutMs);
    const [name] = await activeNodes(among);
    return among.find((n) => n.name === name)!;
  }

  /** Sessions of the app's database user, as the server sees them. */
  async appSessions(): Promise<number> {
    const rows = this.postgres
      ? await this.db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'papercut_app' AND datname = 'papercut_app' AND application_name = 'papercut-standin'`)
      : await this.db.sql(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'papercut_app' AND DB = 'papercut_app'`);
    return Number(rows[0].n);
  }

  /** `system.network-address` as the app stored it in its own database. */
  async networkAddress(): Promise<string | undefined> {
    const sql = `SELECT config_value FROM ${this.postgres ? '' : 'papercut_app.'}tbl_config WHERE config_name = 'system.network-address'`;
    if (!this.postgres) return (await this.db.sql(sql))[0]?.config_value as string | undefined;
    const { Client } = await import('pg');
    // the harness's superuser: the master may not read the app user's tables
    const c = new Client({ ...(this.db as TestPostgres).superuserClientConfig, database: 'papercut_app' });
    await c.connect();
    try {
      return (await c.query(sql)).rows[0]?.config_value as string | undefined;
    } finally {
      await c.end();
    }
  }

  dbToolsCalls(): StandinCall[] {
    return readCalls(this.calls).filter((c) => c.tool === 'db-tools');
  }

  addressCalls(): StandinCall[] {
    return readCalls(this.calls).filter((c) => c.tool === 'server-command' && c.args[1] === 'system.network-address');
  }

  /** A new app secret value (what a rotation puts into Secrets Manager / Key Vault). */
  rotate(password: string): void {
    writeFileSync(this.appPasswordFile, password + '\n', { mode: 0o600 });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }
}

/** `detail` of each "hook NAME done" line in a node's log (pino JSON lines). */
export function hookDetails(node: GuardNode, hook: string): string[] {
  return node
    .log()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; detail?: string })
    .filter((e) => e.msg === `hook ${hook} done`)
    .map((e) => e.detail ?? '');
}
