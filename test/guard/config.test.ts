import { envName, loadGuardConfig, parseProperties } from '../../lib/guard/config';
import { BASE_GUARD_LINES } from '../harness/guard-config';

const base = BASE_GUARD_LINES.join('\n');

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = loadGuardConfig(text, env, 'host');
  return r.ok ? [] : r.problems.map((p) => p.path);
}

describe('parseProperties', () => {
  it('reads key=value lines and skips comments', () => {
    // given
    const text = '# comment\n! also\n\na.b = 1\nc=x=y\n';
    // when
    const r = parseProperties(text);
    // then
    expect([...r.entries]).toEqual([['a.b', '1'], ['c', 'x=y']]);
    expect(r.problems).toEqual([]);
  });

  it('reports a line without = and a duplicate key', () => {
    const r = parseProperties('a=1\nbogus\na=2\n');
    expect(r.problems.map((p) => p.path)).toEqual(['line 2', 'a']);
  });
});

describe('loadGuardConfig', () => {
  it('derives valid timings from L=6 and stop=2', () => {
    // when
    const r = loadGuardConfig(base, {}, 'host');
    // then
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.timings).toEqual({
      failOverIntervalSecs: 6,
      startupTimeoutSecs: 300,
      renewPeriodSecs: 1,
      queryTimeoutSecs: 0.4,
      renewDeadlineSecs: 3,
      stopTimeoutSecs: 2,
    });
    expect(r.config.healthPort).toBe(9180);
    expect(r.config.healthBind).toBe('0.0.0.0');
    expect(r.config.drainSecs).toBe(0);
    expect(r.config.service).toMatchObject({ mode: 'exec', command: 'node app.js', stopTimeoutSecs: 2 });
  });

  it('reads log.level (default info), overridable by FAILOVER_GUARD_LOG_LEVEL, and names the key of a bad value', () => {
    // when / then
    expect(loadGuardConfig(base, {}, 'host')).toMatchObject({ ok: true, config: { logLevel: 'info' } });
    expect(loadGuardConfig(`${base}\nlog.level=debug\n`, {}, 'host')).toMatchObject({ ok: true, config: { logLevel: 'debug' } });
    expect(loadGuardConfig(base, { FAILOVER_GUARD_LOG_LEVEL: 'DEBUG' }, 'host')).toMatchObject({ ok: true, config: { logLevel: 'debug' } });
    const bad = loadGuardConfig(`${base}\nlog.level=trace\n`, {}, 'host');
    expect(bad.ok ? [] : bad.problems).toEqual([{ path: 'log.level', message: 'must be info or debug' }]);
  });

  it('defaults node.id to the host name', () => {
    const r = loadGuardConfig(base.replace('node.id=node-a\n', ''), {}, 'ip-10-0-0-1.ec2.internal');
    expect(r.ok && r.config.nodeId).toBe('ip-10-0-0-1.ec2.internal');
  });

  it('lets FAILOVER_GUARD_* env override file keys', () => {
    // given
    const env = { [envName('health.port')]: '9999', FAILOVER_GUARD_NODE_ID: 'node-b' };
    // when
    const r = loadGuardConfig(base, env, 'host');
    // then
    expect(envName('high-availability-guard.fail-over-interval-secs')).toBe('FAILOVER_GUARD_HIGH_AVAILABILITY_GUARD_FAIL_OVER_INTERVAL_SECS');
    expect(r.ok && [r.config.healthPort, r.config.nodeId]).toEqual([9999, 'node-b']);
  });

  it('names an unknown key', () => {
    expect(problemsOf(base + '\nhealth.prot=1')).toEqual(['health.prot']);
  });

  it('names every bad value at once', () => {
    const text = base + '\nhealth.port=abc\nservice.mode=docker\nservice.ready=ftp://x\nhigh-availability-guard.enabled=maybe';
    expect(problemsOf(text).sort()).toEqual(['health.port', 'high-availability-guard.enabled', 'service.mode', 'service.ready'].sort());
  });

  it('requires the key of the chosen service mode', () => {
    // L 10: L 6 leaves too little for systemd's and Windows' kill-confirm bound
    const L10 = base.replace(/^high-availability-guard.fail-over-interval-secs=.*$/m, 'high-availability-guard.fail-over-interval-secs=10');
    expect(problemsOf(L10 + '\nservice.mode=systemd')).toEqual(['service.unit']);
    expect(problemsOf(L10 + '\nservice.mode=windows-service')).toEqual(['service.name']);
  });

  it('refuses a password in database.url', () => {
    expect(problemsOf(base.replace('guard@', 'guard:secret@'))).toEqual(['database.url']);
  });

  it('does not need a database in single-server mode', () => {
    const r = loadGuardConfig('cluster.name=x\nhigh-availability-guard.enabled=N\nservice.command=true', {}, 'h');
    expect(r.ok && r.config.enabled).toBe(false);
  });

  it.each([
    ['high-availability-guard.query-timeout-secs=2', 'high-availability-guard.query-timeout-secs'],
    ['high-availability-guard.renew-deadline-secs=1.5', 'high-availability-guard.renew-deadline-secs'],
    ['high-availability-guard.renew-deadline-secs=3.5', 'high-availability-guard.renew-deadline-secs'],
    ['high-availability-guard.fail-over-interval-secs=3', 'high-availability-guard.fail-over-interval-secs'],
  ])('reports the timing invariant violated by %s', (line, key) => {
    // given: the line overrides the base value (env wins over the file)
    const [k, v] = line.split('=');
    // when
    const paths = problemsOf(base, { [envName(k)]: v });
    // then
    expect(paths).toContain(key);
  });

  it('rejects L − D < K + M with the mode\'s K, naming the keys; the stop timeout is not part of it', () => {
    // given: L 10, D 6: 4 s left; exec needs K 1 + M 2 = 3 s, systemd K 3 + M 2 = 5 s
    const timing = '\nhigh-availability-guard.fail-over-interval-secs=10\nhigh-availability-guard.renew-deadline-secs=6\nservice.stop-timeout-secs=60';
    const systemd = base.replace('service.command=node app.js', 'service.mode=systemd\nservice.unit=app.service').replace(/^high-availability-guard.fail-over-interval-secs=.*$/m, '').replace(/^service.stop-timeout-secs=.*$/m, '') + timing;
    const exec = base.replace(/^high-availability-guard.fail-over-interval-secs=.*$/m, '').replace(/^service.stop-timeout-secs=.*$/m, '') + timing;
    // when
    const r = loadGuardConfig(systemd, {}, 'h');
    // then
    expect(r.ok ? [] : r.problems).toEqual([
      {
        path: 'high-availability-guard.renew-deadline-secs',
        message: expect.stringContaining(
          'high-availability-guard.fail-over-interval-secs − high-availability-guard.renew-deadline-secs (10s − 6s = 4s) must be ≥ K + M = 3s + 2s = 5s (K: kill-confirm bound of systemd mode, set by service.mode',
        ),
      },
    ]);
    expect(problemsOf(exec)).toEqual([]);
  });

  it('derives D from L and the mode: L 10 gives D 5 (exec), 3 (systemd, room for W), 3 (windows-service)', () => {
    const L10 = base.replace(/^high-availability-guard.fail-over-interval-secs=.*$/m, 'high-availability-guard.fail-over-interval-secs=10');
    const deadline = (text: string) => {
      const r = loadGuardConfig(text, {}, 'h');
      return r.ok ? r.config.timings.renewDeadlineSecs : r.problems;
    };
    expect(deadline(L10)).toBe(5);
    expect(deadline(L10.replace('service.command=node app.js', 'service.mode=systemd\nservice.unit=app.service'))).toBe(3);
    expect(deadline(L10.replace('service.command=node app.js', 'service.mode=windows-service\nservice.name=PCAppServer'))).toBe(3);
  });

  it('checks the load-balancer invariant only when its keys are given', () => {
    // given: L − D = 4 s, the LB needs (3 − 2 + 1)·5 + 2 = 12 s
    const lb = '\nload-balancer.interval-secs=5\nload-balancer.timeout-secs=2\nload-balancer.healthy-threshold=2\nload-balancer.unhealthy-threshold=3';
    // then
    expect(problemsOf(base + lb)).toEqual(['load-balancer.interval-secs']);
    expect(problemsOf(base + '\nload-balancer.interval-secs=5')).toEqual([
      'load-balancer.timeout-secs',
      'load-balancer.healthy-threshold',
      'load-balancer.unhealthy-threshold',
    ]);
  });

  it('drains U·I + T when the load balancer is known and health.drain-secs is not set', () => {
    const lb = '\nload-balancer.interval-secs=1\nload-balancer.timeout-secs=0.5\nload-balancer.healthy-threshold=2\nload-balancer.unhealthy-threshold=2';
    const r = loadGuardConfig(base + lb, {}, 'h');
    expect(r.ok && r.config.drainSecs).toBe(2.5);
    const r2 = loadGuardConfig(base + lb + '\nhealth.drain-secs=1', {}, 'h');
    expect(r2.ok && r2.config.drainSecs).toBe(1);
  });
});

describe('loadGuardConfig watchdog', () => {
  const text = ['cluster.name=print', 'node.id=a', 'database.url=postgres://u@db/x', 'high-availability-guard.fail-over-interval-secs=6', 'service.stop-timeout-secs=2', 'service.command=node app.js'].join('\n');

  it("rejects a unit WatchdogSec longer than the timings' watchdog W, naming it", () => {
    // given: L 6, D 3, exec (K 1, M 2) → W = max(0.5, ¾ × (6 − 3 − 1 − 2)) = 0.5 s; the unit says 5 s
    const r = loadGuardConfig(text, { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '5000000' }, 'h');
    // then
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toEqual(['WatchdogSec']);
  });

  it('accepts WatchdogSec = W', () => {
    expect(loadGuardConfig(text, { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '500000' }, 'h').ok).toBe(true);
  });
});
