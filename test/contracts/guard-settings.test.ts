import { GUARD_KEYS, guardSettings, renderProperties } from '../../lib/contracts/guard-settings';
import { papercut, parseClusterSpec } from '../../lib/spec';

const db = { url: 'postgres://guard@db.internal:5432/papercut?sslmode=require', passwordSource: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:db' };

describe('guardSettings', () => {
  it('carries the same timings as the health check', () => {
    // given
    const spec = parseClusterSpec({ name: 'print', profile: papercut(), healthCheck: { intervalSecs: 10, timeoutSecs: 4 } });
    // when
    const map = new Map(guardSettings(spec, db));
    // then
    expect(map.get(GUARD_KEYS.failOverIntervalSecs)).toBe('30');
    expect(map.get(GUARD_KEYS.renewDeadlineSecs)).toBe('15');
    expect(map.get(GUARD_KEYS.lbIntervalSecs)).toBe('10');
    expect(map.get(GUARD_KEYS.lbTimeoutSecs)).toBe('4');
    expect(map.get(GUARD_KEYS.serviceMode)).toBe('systemd');
    expect(map.get(GUARD_KEYS.serviceUnit)).toBe('pc-app-server.service');
    expect(map.get(GUARD_KEYS.serviceReady)).toBe('http://127.0.0.1:9191/app');
  });

  it('uses the Windows service on Windows', () => {
    const spec = parseClusterSpec({ name: 'print', profile: papercut({ os: 'windows' }) });
    const map = new Map(guardSettings(spec, db));
    expect(map.get(GUARD_KEYS.serviceMode)).toBe('windows-service');
    expect(map.get(GUARD_KEYS.serviceName)).toBe('PCAppServer');
  });

  it('refuses a database URL with a password in it', () => {
    const spec = parseClusterSpec({ name: 'print', profile: papercut() });
    expect(() => guardSettings(spec, { ...db, url: 'postgres://guard:secret@db/x' })).toThrow('database.url must not contain a password');
  });
});

describe('renderProperties', () => {
  it('writes key=value lines with a comment header', () => {
    expect(renderProperties([['a.b', '1'], ['c', 'x y']], 'generated')).toBe('# generated\na.b=1\nc=x y\n');
  });
  it('rejects a value that would inject a second key', () => {
    expect(() => renderProperties([['service.command', 'x\nnode.id=evil']])).toThrow('guard config service.command: value must be a single line');
  });
});
