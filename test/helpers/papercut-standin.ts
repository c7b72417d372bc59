import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { papercutHooks } from '../../lib/spec/papercut';
import type { AppHook } from '../../lib/spec/profile';

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
