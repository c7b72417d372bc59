import { spawn } from 'child_process';
import { createHmac } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadGuardConfig } from '../../../lib/guard/config';
import { escapePropertyValue, papercutDatabaseProperties, setProperties, writePropertiesFile } from '../../../lib/guard/app/app-config';
import { scramSha256Verifier } from '../../../lib/guard/app/app-database';
import type { AppHookConfig } from '../../../lib/guard/app/hook-config';
import { runCommand } from '../../../lib/guard/app/run-command';
import { expandArgv, HookedSupervisor, HookRunner } from '../../../lib/guard/app/hooks';
import type { Supervisor } from '../../../lib/guard/app/supervisor';
import type { AppHook } from '../../../lib/spec/profile';
import { sleep, waitFor } from '../../harness/wait';
import { BASE_GUARD_LINES } from '../../harness/guard-config';

const base = BASE_GUARD_LINES;

/** True while `pid` runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
const problemsOf = (lines: string[]) => {
  const r = loadGuardConfig([...base, ...lines].join('\n'), {}, 'host');
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('hook config keys', () => {
  it('reads numbered hooks in number order and the app.* keys', () => {
    // given
    const lines = [
      'app.database.url=postgres://papercut_app@db:5432/papercut_app?sslmode=require',
      'app.database.password-source=aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x',
      'app.network-address=lb.example',
      'hook.before-start.10={"kind":"command","name":"second","argv":["/bin/true"]}',
      'hook.before-start.2={"kind":"app-database","name":"first"}',
      'hook.after-ready.1={"kind":"command","name":"addr","argv":["/x","{{network-address}}"],"timeoutSecs":5}',
    ];
    // when
    const r = loadGuardConfig([...base, ...lines].join('\n'), {}, 'host');
    // then
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.app?.beforeStart.map((h) => h.name)).toEqual(['first', 'second']);
    expect(r.config.app?.afterReady).toEqual([{ kind: 'command', name: 'addr', argv: ['/x', '{{network-address}}'], timeoutSecs: 5 }]);
    expect(r.config.app?.database?.url).toContain('papercut_app@db');
    expect(r.config.app?.networkAddress).toBe('lb.example');
  });

  it('names the key of every bad hook or app setting', () => {
    expect(
      problemsOf([
        'hook.before-start.1=not json',
        'hook.before-start.2={"kind":"command","name":"x","argv":[]}',
        'hook.after-ready.1={"kind":"schema-init","name":"y","argv":["/bin/db-tools","{{network-address}}"]}',
        'hook.after-ready.0={"kind":"command","name":"z","argv":["/bin/true"]}',
        'app.database.url=postgres://u:secret@db/app',
      ]),
    ).toEqual([
      'hook.after-ready.0: unknown key',
      expect.stringMatching(/^hook.before-start.1: must be one JSON object/),
      'hook.before-start.2: argv: must name a program',
      'app.database.url: must not contain a password; use app.database.password-source',
      'app.database.password-source: is required when app.database.url is set',
      // schema-init's default 600 s does not fit in the default startup timeout
      expect.stringMatching(/^high-availability-guard.startup-timeout-secs: \(300 s\) must be more than the hooks' timeouts together \(hook.after-ready.1 600 = 600 s\)/),
      'app.network-address: is required: a hook uses {{network-address}}',
    ]);
  });

  it('a hook that needs the app database without app.database.url is a problem', () => {
    expect(problemsOf(['hook.before-start.1={"kind":"app-database","name":"db"}'])).toEqual(['app.database.url: is required: a hook uses the app database']);
  });

  it('app.* keys can come from the environment', () => {
    const r = loadGuardConfig(base.join('\n'), { FAILOVER_GUARD_APP_NETWORK_ADDRESS: 'lb.env' }, 'host');
    expect(r.ok && r.config.app?.networkAddress).toBe('lb.env');
  });
});

describe('PaperCut database.* properties', () => {
  it('PostgreSQL: the manual keys, TLS mode carried into the JDBC URL', () => {
    expect(papercutDatabaseProperties('postgres://papercut_app@db.example:5432/papercut_app?sslmode=require', 'pw')).toEqual([
      ['database.type', 'PostgreSQL'],
      ['database.driver', 'org.postgresql.Driver'],
      ['database.url', 'jdbc:postgresql://db.example:5432/papercut_app?sslmode=require'],
      ['database.username', 'papercut_app'],
      ['database.password', 'pw'],
    ]);
  });

  it('MySQL: Connector/J driver and sslMode=REQUIRED', () => {
    const props = new Map(papercutDatabaseProperties('mysql://papercut_app@db.example:3306/papercut_app?ssl-mode=REQUIRED', 'pw'));
    expect(props.get('database.type')).toBe('MySQL');
    expect(props.get('database.driver')).toBe('com.mysql.cj.jdbc.Driver');
    expect(props.get('database.url')).toBe('jdbc:mysql://db.example:3306/papercut_app?sslMode=REQUIRED');
  });

  it('escapes values as java.util.Properties reads them', () => {
    expect(escapePropertyValue(' a\\b:c=d#e\né')).toBe('\\ a\\\\b:c=d#e\\n\\u00e9');
  });

  it('replaces the keys in place, drops duplicates, keeps everything else, appends what is missing', () => {
    // given
    const text = '# header\nserver.port=9191\ndatabase.type=Internal\n#database.url=jdbc:old\ndatabase.type = Other\n';
    // when
    const out = setProperties(text, [
      ['database.type', 'PostgreSQL'],
      ['database.url', 'jdbc:postgresql://h/d'],
    ]);
    // then
    expect(out).toBe(
      '# header\nserver.port=9191\ndatabase.type=PostgreSQL\n#database.url=jdbc:old\n# written by failover-guard before each start (from the app secret); edits here are replaced\ndatabase.url=jdbc:postgresql://h/d\n',
    );
    expect(setProperties(out, [['database.type', 'PostgreSQL'], ['database.url', 'jdbc:postgresql://h/d']])).toBe(out);
  });

  it('writes through a link to the real file, keeps its mode, and writes nothing when already current', async () => {
    // given
    const dir = mkdtempSync(join(tmpdir(), 'fc11-props-'));
    try {
      const real = join(dir, 'server.properties');
      writeFileSync(real, 'server.port=9191\n', { mode: 0o640 });
      const link = join(dir, 'link.properties');
      require('fs').symlinkSync(real, link);
      // when
      const first = await writePropertiesFile(link, [['database.password', 'p#1']]);
      const second = await writePropertiesFile(link, [['database.password', 'p#1']]);
      // then
      expect([first, second]).toEqual([true, false]);
      expect(readFileSync(real, 'utf8')).toContain('database.password=p#1');
      expect(require('fs').lstatSync(link).isSymbolicLink()).toBe(true);
      expect(require('fs').statSync(real).mode & 0o777).toBe(0o640);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scramSha256Verifier', () => {
  it('gives the ServerKey of RFC 7677 §3 (password "pencil"): the server signature of its exchange matches', () => {
    // given
    const v = scramSha256Verifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const [, rest] = v.split('$4096:');
    const serverKey = Buffer.from(rest.split(':')[1], 'base64');
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    // when
    const signature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    // then
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(signature).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });
});

describe('expandArgv', () => {
  it('fills {{network-address}} and refuses an unknown or unset placeholder', () => {
    expect(expandArgv(['x', 'system.network-address', '{{network-address}}'], { 'network-address': 'lb' })).toEqual(['x', 'system.network-address', 'lb']);
    expect(() => expandArgv(['{{network-address}}'], {})).toThrow('{{network-address}} has no value');
  });
});

/** A supervisor that records calls and is ready when told. */
class RecordingSupervisor implements Supervisor {
  readonly calls: string[] = [];
  isReady = false;
  exitListener?: (d: string) => void;
  async cleanup() {}
  async start() {
    this.calls.push('start');
  }
  async kill() {
    this.calls.push('kill');
  }
  async stop() {
    this.calls.push('stop');
  }
  async ready() {
    return this.isReady;
  }
  onExit(l: (d: string) => void) {
    this.exitListener = l;
  }
}

describe('HookedSupervisor', () => {
  let dir: string;
  const logs: Array<{ msg: string; obj: object }> = [];
  const log = { info: (obj: object, msg: string) => logs.push({ obj, msg }), warn: () => undefined, error: (obj: object, msg: string) => logs.push({ obj, msg }) };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc11-hooks-'));
    logs.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cmd = (name: string, script: string, timeoutSecs = 10): AppHook => ({ kind: 'command', name, argv: ['/bin/sh', '-c', script], timeoutSecs });
  const make = (hooks: Partial<AppHookConfig>, startupTimeoutSecs = 30) => {
    const inner = new RecordingSupervisor();
    const app: AppHookConfig = { beforeStart: [], afterReady: [], networkAddress: 'lb.example', ...hooks };
    const runner = new HookRunner({ cluster: 'c', node: 'n', instance: 'i', app, masterPassword: async () => undefined, appPassword: async () => undefined, log });
    const s = new HookedSupervisor({ inner, hooks: app, runner, log, startupTimeoutSecs });
    const exits: string[] = [];
    s.onExit((d) => exits.push(d));
    return { s, inner, exits };
  };

  it('runs before-start hooks in order with the term, then starts the app; ready only after the after-ready hooks', async () => {
    // given
    const out = join(dir, 'out');
    const { s, inner } = make({
      beforeStart: [cmd('one', `echo "one $FAILOVER_GUARD_TERM" >> ${out}`), cmd('two', `echo two >> ${out}`)],
      afterReady: [{ kind: 'command', name: 'addr', argv: ['/bin/sh', '-c', `echo "addr $1" >> ${out}`, 'sh', '{{network-address}}'], timeoutSecs: 10 }],
    });
    // when
    await s.start({ FAILOVER_GUARD_TERM: '7' });
    await waitFor('app started', () => inner.calls.includes('start'), 5000);
    // then: not ready while the app is not
    expect(await s.ready()).toBe(false);
    inner.isReady = true;
    expect(await s.ready()).toBe(false); // after-ready hooks now running
    await waitFor('ready', () => s.ready(), 5000);
    expect(readFileSync(out, 'utf8')).toBe('one 7\ntwo\naddr lb.example\n');
    expect(logs.map((l) => l.msg)).toEqual(['hook one started', 'hook one done', 'hook two started', 'hook two done', 'hook addr started', 'hook addr done']);
  });

  it('a failing before-start hook reports an exit (the elector releases) and never starts the app', async () => {
    // given
    const { s, inner, exits } = make({ beforeStart: [cmd('bad', 'echo oops >&2; exit 3'), cmd('never', 'true')] });
    // when
    await s.start({ FAILOVER_GUARD_TERM: '1' });
    await waitFor('exit reported', () => exits.length === 1, 5000);
    // then
    expect(exits[0]).toBe('start failed: hook bad failed: exit code 3: oops');
    expect(inner.calls).toEqual([]);
    expect(await s.ready()).toBe(false);
  });

  it('a hook is killed at its timeout, and the startup timeout caps every hook', async () => {
    // given: hook timeout 1 s; and a startup timeout of 1 s for a hook allowed 10 s
    const a = make({ beforeStart: [cmd('slow', 'sleep 30', 1)] });
    const b = make({ beforeStart: [cmd('slow', 'sleep 30', 10)] }, 1);
    // when
    await Promise.all([a.s.start({}), b.s.start({})]);
    await waitFor('both failed', () => a.exits.length === 1 && b.exits.length === 1, 8000);
    // then
    expect(a.exits[0]).toMatch(/^start failed: hook slow failed: timed out after 1 s/);
    expect(b.exits[0]).toMatch(/^start failed: hook slow failed: timed out after 1 s/);
  });

  it('stop() kills a running hook, does not start the app, and reports no exit', async () => {
    // given
    const marker = join(dir, 'after');
    const { s, inner, exits } = make({ beforeStart: [cmd('slow', `sleep 30; touch ${marker}`)] });
    await s.start({});
    await sleep(300);
    // when
    await s.stop(performance.now() + 5000);
    // then
    expect(inner.calls).toEqual(['stop']);
    expect(exits).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  /** `script` for a shell: a grandchild in a session of its own (out of the hook's group) holds the hook's pipes for 30 s. */
  const pipeHolder = (pidFile: string) => `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 30' &`;
  const killHolder = (pidFile: string) => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // never started or gone
    }
  };
  /** `p` settled within `ms`, or 'pending' (the bound only ends a wait that a hang would make endless). */
  const within = (p: Promise<unknown>, ms: number) =>
    Promise.race([p.then(() => 'settled', () => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

  for (const shell of ['/bin/dash', '/bin/bash']) {
    it(`${shell}: runCommand settles when the hook exits, though a grandchild out of its group keeps the pipes open`, async () => {
      const pidFile = join(dir, 'holder.pid');
      try {
        // when
        const run = runCommand([shell, '-c', `${pipeHolder(pidFile)} echo started; exit 0`], { env: {}, timeoutMs: 20000, signal: new AbortController().signal });
        // then: resolved (before, it waited for the pipes to close: 30 s, past the 20 s timeout, whose kill misses the holder)
        expect(await within(run, 10000)).toBe('settled');
        expect(await run).toEqual({ code: 0, stdout: 'started\n' });
      } finally {
        await waitFor('holder started', () => existsSync(pidFile), 5000).catch(() => undefined);
        killHolder(pidFile);
      }
    });

    it(`${shell}: stop() and kill() reach the app at once, though a running hook's grandchild keeps its pipes open`, async () => {
      for (const how of ['stop', 'kill'] as const) {
        const pidFile = join(dir, `holder-${how}.pid`);
        const { s, inner, exits } = make({ beforeStart: [{ kind: 'command', name: 'holds', argv: [shell, '-c', `${pipeHolder(pidFile)} sleep 30`], timeoutSecs: 60 }] });
        try {
          await s.start({});
          await waitFor('hook running', () => existsSync(pidFile), 5000);
          // when
          const ending = how === 'stop' ? s.stop(performance.now() + 5000) : s.kill(performance.now() + 5000);
          // then: the app is stopped/killed (before, stop() waited for the hook, which waited for its pipes: never)
          expect(await within(ending, 4000)).toBe('settled');
          expect(inner.calls).toEqual([how]);
          await sleep(200);
          expect(inner.calls).toEqual([how]);
          expect(exits).toEqual([]);
        } finally {
          killHolder(pidFile);
        }
      }
    });
  }

  it('a hook dies with the guard (pdeathsig): a kill -9 of the guard leaves no hook running', async () => {
    // given: a stand-in guard whose hook writes its pid, then sleeps
    const pidFile = join(dir, 'hook.pid');
    const guard = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'hook-holder.ts'), `echo $$ > ${pidFile}; exec sleep 60`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => guard.stdout!.on('data', (d: Buffer) => d.toString().includes('running') && resolve()));
    await waitFor('hook started', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 5000);
    const hook = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(hook)).toBe(true);
    // when
    guard.kill('SIGKILL');
    // then: the kernel killed the hook (before, it ran on in its own process group)
    try {
      await waitFor('hook gone', () => !alive(hook), 5000);
    } finally {
      if (alive(hook)) process.kill(hook, 'SIGKILL');
    }
  });

  it('a failing after-ready hook keeps the node not ready and is tried again', async () => {
    // given: fails the first time, succeeds the second
    const count = join(dir, 'count');
    const { s, inner } = make({ afterReady: [cmd('flaky', `echo x >> ${count}; [ "$(wc -l < ${count})" -ge 2 ]`)] });
    inner.isReady = true;
    await s.start({});
    await waitFor('app started', () => inner.calls.includes('start'), 5000);
    // when / then
    await waitFor('ready after a retry', () => s.ready(), 10000);
    expect(readFileSync(count, 'utf8')).toBe('x\nx\n');
    expect(logs.map((l) => l.msg)).toContain('hook flaky failed');
  });
});
