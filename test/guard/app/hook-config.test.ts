import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { guardCliMain } from '../../../lib/guard';
import { parseHook } from '../../../lib/guard/app/hook-config';
import { parseClusterSpec, ValidationError } from '../../../lib/spec';
import { papercut, papercutHooks } from '../../../lib/spec/papercut';
import { BASE_GUARD_LINES } from '../../harness/guard-config';
import { hookSchema } from '../../../lib/spec/profile';

/** What synth's zod schema answers, in parseHook's shape. */
function zodAnswer(json: unknown): ReturnType<typeof parseHook> {
  const r = hookSchema.safeParse(json);
  return r.success ? { hook: r.data } : { issues: r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)) };
}

describe('parseHook (the guard checks hooks without zod)', () => {
  const cases: unknown[] = [
    { kind: 'command', name: 'x', argv: ['/bin/true'] },
    { kind: 'command', name: 'run-it2', argv: ['/bin/true', '{{network-address}}'], extra: 1, timeoutSecs: 5, user: 'bob' },
    { kind: 'app-database', name: 'db' },
    { kind: 'app-database', name: 'db', timeoutSecs: 3600, argv: ['ignored'], user: 'ignored' },
    { kind: 'papercut-database-properties', name: 'props', file: '/opt/server.properties' },
    { kind: 'schema-init', name: 'schema', argv: ['x'], user: '_svc-1' },
    { kind: 'nope', name: 'x' },
    {},
    'str',
    null,
    [1],
    7,
    { kind: 'command', name: 'X', argv: [] },
    { kind: 'command', argv: ['a', '', 'b\nc', 3, 'd\0', 'e\r'] },
    { kind: 'command', name: 'x', argv: 'a' },
    { kind: 'command', name: 'a'.repeat(41), argv: ['a'], timeoutSecs: 0 },
    { kind: 'command', name: 'x', argv: ['a'], timeoutSecs: '5' },
    { kind: 'command', name: 'x', argv: ['a'], timeoutSecs: null },
    { kind: 'command', name: 'x', argv: ['a'], timeoutSecs: 9999, user: 'Root' },
    { kind: 'schema-init', name: 'x', argv: ['a'], timeoutSecs: 1.5, user: null },
    { kind: 'papercut-database-properties', name: 'p' },
    { kind: 'papercut-database-properties', name: 'p', file: '', timeoutSecs: 0.5 },
    { kind: 'app-database', name: 5 },
  ];

  it.each(cases.map((c) => [JSON.stringify(c), c]))('answers %s as hookSchema does', (_, json) => {
    expect(parseHook(json)).toEqual(zodAnswer(json));
  });
});

describe('hook timeouts against the startup timeout', () => {
  const appLines = ['app.database.url=postgres://papercut_app@db.example.internal:5432/papercut_app?sslmode=verify-full', 'app.database.password-source=env:APP_PW', 'app.network-address=lb.example.internal'];
  const hooks = papercutHooks('linux');
  const hookLines = [...hooks.beforeStart.map((h, i) => `hook.before-start.${i + 1}=${JSON.stringify(h)}`), ...hooks.afterReady.map((h, i) => `hook.after-ready.${i + 1}=${JSON.stringify(h)}`)];
  const validate = async (lines: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-hook-timeouts-'));
    const file = join(dir, 'guard.properties');
    writeFileSync(file, lines.join('\n') + '\n');
    const out: string[] = [];
    const err: string[] = [];
    try {
      const code = await guardCliMain(['validate', '--config', file], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
      return { code, out, err };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('a config whose hooks do not fit in the startup timeout exits 2 naming the startup timeout key and every hook key', async () => {
    // when: PaperCut's hooks (720 s together) with PaperCut's own default of 300 s
    const r = await validate([...BASE_GUARD_LINES, 'high-availability-guard.startup-timeout-secs=300', ...appLines, ...hookLines]);
    // then
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain(
      "high-availability-guard.startup-timeout-secs: (300 s) must be more than the hooks' timeouts together (hook.before-start.1 30 + hook.before-start.2 30 + hook.before-start.3 600 + hook.after-ready.1 60 = 720 s)",
    );
  });

  it('the same hooks with the startup timeout the constructs write for PaperCut pass', async () => {
    // given
    const startup = parseClusterSpec({ name: 'print', profile: papercut() }).guard.startupTimeoutSecs;
    // when
    const r = await validate([...BASE_GUARD_LINES, `high-availability-guard.startup-timeout-secs=${startup}`, ...appLines, ...hookLines]);
    // then
    expect(startup).toBe(1020);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: [] });
  });

  it('at synth: an explicit guard.startupTimeoutSecs too short for the profile hooks is a problem naming both props', () => {
    // when
    const attempt = () => parseClusterSpec({ name: 'print', profile: papercut(), guard: { startupTimeoutSecs: 720 } });
    // then
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(
      "guard.startupTimeoutSecs: (720 s) must be more than the hooks' timeouts together (profile.hooks.beforeStart[0].timeoutSecs 30 + profile.hooks.beforeStart[1].timeoutSecs 30 + profile.hooks.beforeStart[2].timeoutSecs 600 + profile.hooks.afterReady[0].timeoutSecs 60 = 720 s)",
    );
    expect(() => parseClusterSpec({ name: 'print', profile: papercut(), guard: { startupTimeoutSecs: 721 } })).not.toThrow();
  });
});
