import { parseHook } from '../../lib/guard/hook-config';
import { hookSchema } from '../../lib/spec/profile';

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
