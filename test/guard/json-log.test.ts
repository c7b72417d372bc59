import { jsonLog } from '../../lib/guard/json-log';

describe('jsonLog', () => {
  it('writes one pino-shaped JSON line per call', () => {
    const lines: string[] = [];
    const log = jsonLog({ cluster: 'c', node: 'a' }, (l) => lines.push(l));
    log.warn({ term: 3 }, 'fenced: stopping the app');
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0])).toEqual({ level: 40, time: expect.any(Number), pid: process.pid, hostname: expect.any(String), cluster: 'c', node: 'a', term: 3, msg: 'fenced: stopping the app' });
  });

  it('never throws on fields JSON cannot hold', () => {
    const lines: string[] = [];
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    jsonLog({}, (l) => lines.push(l)).error(circular, 'x');
    expect(JSON.parse(lines[0])).toMatchObject({ level: 50, msg: 'x', logError: 'fields not serializable' });
  });

  it('writes debug lines (pino level 20) only at level debug; by default the logger has no debug', () => {
    // given
    const lines: string[] = [];
    const quiet = jsonLog({}, (l) => lines.push(l));
    const verbose = jsonLog({}, (l) => lines.push(l), 'debug');
    // when
    quiet.debug?.({ term: 1 }, 'tick');
    verbose.debug?.({ term: 2 }, 'tick');
    // then
    expect(quiet.debug).toBeUndefined();
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: 20, term: 2, msg: 'tick' })]);
  });
});
