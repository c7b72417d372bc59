import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import * as ts from 'typescript';
import { custom, parseClusterSpec } from '../../lib/spec';

/**
 * The ClusterSpec's timing docs are what users see on hover. A `@default` there is either the
 * value the parser really applies, or `- …` naming the function that derives it with
 * `{@link fn}` (exported from lib/spec or lib/contracts), never a formula of its own that can
 * drift from the code.
 */

const LIB = join(__dirname, '..', '..', 'lib');
const FILE = join(LIB, 'spec', 'cluster-spec.ts');

/** Names of the functions exported by lib/spec and lib/contracts, where a default is derived. */
const EXPORTED_FUNCTIONS = new Set(
  ['spec', 'contracts'].flatMap((dir) =>
    readdirSync(join(LIB, dir))
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(LIB, dir, f), 'utf8').matchAll(/^export function (\w+)/gm)].map((m) => m[1])),
  ),
);
const SCHEMAS = { guardSchema: 'guard', healthCheckSchema: 'healthCheck' } as const;

/** `@default` text of each property of the named `z.object({…})` schemas: `guard.renewPeriodSecs` → `- derived …`. */
function schemaDefaults(source: string): Map<string, string | undefined> {
  const sf = ts.createSourceFile(FILE, source, ts.ScriptTarget.Latest, true);
  const out = new Map<string, string | undefined>();
  for (const statement of sf.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const decl of statement.declarationList.declarations) {
      const group = SCHEMAS[decl.name.getText(sf) as keyof typeof SCHEMAS];
      const call = decl.initializer;
      if (!group || !call || !ts.isCallExpression(call) || !ts.isObjectLiteralExpression(call.arguments[0])) continue;
      for (const prop of call.arguments[0].properties) {
        const doc = ts.getJSDocCommentsAndTags(prop).filter(ts.isJSDoc).pop();
        const tag = doc?.tags?.find((t) => t.tagName.text === 'default');
        const text = tag ? ts.getTextOfJSDocComment(tag.comment)?.trim() : undefined;
        out.set(`${group}.${prop.name!.getText(sf)}`, text);
      }
    }
  }
  return out;
}

/** What is wrong with one documented default, or undefined. */
function defaultProblem(text: string | undefined, actual: unknown): string | undefined {
  if (text === undefined) return 'no @default';
  if (text.startsWith('-')) {
    const link = /\{@link (\w+)\}/.exec(text)?.[1];
    if (!link) return `"${text}" names no {@link function} that derives it`;
    if (!EXPORTED_FUNCTIONS.has(link)) return `{@link ${link}} is no function exported from lib/spec or lib/contracts`;
    return undefined;
  }
  return JSON.stringify(actual) === text ? undefined : `documented ${text}, parsed ${JSON.stringify(actual)}`;
}

describe('ClusterSpec timing docs', () => {
  // given: the defaults of a spec that sets no timing (a profile without hooks)
  const spec = parseClusterSpec({ name: 'docs', profile: custom({ displayName: 'App', os: 'linux', ports: [{ name: 'http', port: 8080 }], installDir: '/opt/app', sharedItems: [], deleteOnClone: [], serviceName: 'app', readiness: { kind: 'tcp', port: 8080 } }) });
  const actual = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], spec);

  it('the check can fail: a formula or a wrong value is reported', () => {
    expect(defaultProblem('R/2', 1.2)).toBe('documented R/2, parsed 1.2');
    expect(defaultProblem('- min(60, L − D − 1)', 30)).toBe('"- min(60, L − D − 1)" names no {@link function} that derives it');
    expect(defaultProblem('- {@link noSuchFunction}', 3)).toBe('{@link noSuchFunction} is no function exported from lib/spec or lib/contracts');
    expect(defaultProblem('- derived by {@link deriveGuardTimings}', 3)).toBeUndefined();
    expect(defaultProblem('9180', 9180)).toBeUndefined();
  });

  it('every guard and health-check @default is the parsed value or links the function that derives it', () => {
    // when
    const defaults = schemaDefaults(readFileSync(FILE, 'utf8'));
    // then
    expect([...defaults.keys()]).toEqual(expect.arrayContaining(['guard.failOverIntervalSecs', 'guard.queryTimeoutSecs', 'guard.stopTimeoutSecs', 'healthCheck.intervalSecs']));
    const problems = [...defaults].flatMap(([path, text]) => {
      const p = defaultProblem(text, actual(path));
      return p ? [`${path}: ${p}`] : [];
    });
    expect(problems).toEqual([]);
  });
});
