import { ValidationError, custom, papercut, parseClusterSpec, thinprint, type ClusterSpecInput } from '../../lib/spec';

const base = { name: 'print', profile: papercut() } satisfies ClusterSpecInput;

function problemsOf(input: unknown): string[] {
  try {
    parseClusterSpec(input);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  throw new Error('expected the spec to be rejected');
}

describe('parseClusterSpec defaults', () => {
  it.each([
    // PaperCut: its documented 300 s for the app's start plus its hooks' 720 s
    ['papercut mf linux', papercut(), { installDir: '/home/papercut/server', serviceName: 'pc-app-server.service', storage: 'nfs', startup: 1020 }],
    ['papercut ng windows', papercut({ edition: 'ng', os: 'windows' }), { installDir: 'C:\\Program Files\\PaperCut NG\\server', serviceName: 'PCAppServer', storage: 'smb', startup: 1020 }],
    ['papercut mf windows', papercut({ edition: 'mf', os: 'windows' }), { installDir: 'C:\\Program Files\\PaperCut MF\\server', serviceName: 'PCAppServer', storage: 'smb', startup: 1020 }],
    ['thinprint', thinprint(), { installDir: 'C:\\Program Files\\ThinPrint\\Connection Service', serviceName: 'TPConnectionService', storage: 'smb', startup: 300 }],
  ])('%s resolves to the documented defaults', (_name, profile, expected) => {
    // when
    const spec = parseClusterSpec({ name: 'print', profile });
    // then
    expect(spec.nodeCount).toBe(2);
    expect(spec.profile.installDir).toBe(expected.installDir);
    expect(spec.profile.serviceName).toBe(expected.serviceName);
    expect(spec.storage.kind).toBe(expected.storage);
    expect(spec.ports).toEqual(profile.ports);
    expect(spec.sharedItems).toEqual(profile.sharedItems);
    expect(spec.guard).toEqual({
      failOverIntervalSecs: 30,
      startupTimeoutSecs: expected.startup,
      renewPeriodSecs: 3,
      queryTimeoutSecs: 1.2,
      renewDeadlineSecs: 15,
      stopTimeoutSecs: 30,
      port: 9180,
      drainSecs: 13,
    });
    expect(spec.healthCheck).toEqual({ intervalSecs: 5, timeoutSecs: 3, healthyThreshold: 2, unhealthyThreshold: 2 });
    expect(spec.database).toEqual({ engine: 'postgres', size: 'small', storageGb: 20, backupRetentionDays: 7, name: profile.app });
    expect(spec.loadBalancer).toEqual({ scheme: 'internal', layer: 4, preserveClientIp: true, floatingIp: false });
    expect(spec.notificationEmails).toEqual([]);
    expect(spec.tags).toEqual({});
  });

  it('papercut carries the seed facts: ports, shared items, server.uuid', () => {
    const p = papercut();
    expect(p.ports.map((x) => x.port)).toEqual([9191, 9192, 9193]);
    expect(p.sharedItems).toEqual([
      { path: 'server.properties', type: 'file' },
      { path: 'security.properties', type: 'file' },
      { path: 'application.license', type: 'file' },
      { path: 'data', type: 'directory' },
      { path: 'custom', type: 'directory' },
      { path: 'reports', type: 'directory' },
    ]);
    expect(p.deleteOnClone).toEqual(['server.uuid']);
    expect(p.failoverMode).toBe('guard');
    // a client's tunnel is node-local: single-active (guard) unless the multicast cluster is asked for
    expect(thinprint().failoverMode).toBe('guard');
    expect(thinprint().clusterMode).toBe('single-active');
    expect(thinprint({ clusterMode: 'dns-multicast' }).failoverMode).toBe('dns');
  });

  it('ThinPrint single-active is held to the same guard timing rules as PaperCut', () => {
    // given: a health check too slow for the default lease
    const healthCheck = { intervalSecs: 10, timeoutSecs: 6 };
    // when
    const tp = problemsOf({ name: 'tp', profile: thinprint(), healthCheck });
    const pc = problemsOf({ name: 'tp', profile: papercut({ os: 'windows' }), healthCheck });
    // then
    expect(tp).toEqual(pc);
    expect(tp.some((p) => p.startsWith('healthCheck: guard.failOverIntervalSecs'))).toBe(true);
    // the multicast cluster has no guard, so no lease timing applies
    expect(() => parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }), healthCheck })).not.toThrow();
  });

  it('custom profile resolves with its own ports and defaults', () => {
    const profile = custom({
      displayName: 'Acme',
      os: 'linux',
      ports: [{ name: 'http', port: 8080 }],
      installDir: '/opt/acme',
      serviceName: 'acme.service',
      readiness: { kind: 'tcp', port: 8080 },
    });
    const spec = parseClusterSpec({ name: 'acme', profile });
    expect(spec.ports).toEqual([{ name: 'http', port: 8080, protocol: 'tcp' }]);
    expect(spec.sharedItems).toEqual([]);
    expect(spec.database.name).toBe('app');
    expect(spec.profile.readiness).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8080 });
  });

  it('derives D from L = 10 and the OS\'s service mode (systemd K 3 s, Windows K 5 s)', () => {
    const spec = parseClusterSpec({
      ...base,
      guard: { failOverIntervalSecs: 10, stopTimeoutSecs: 2 },
      healthCheck: { intervalSecs: 1, timeoutSecs: 0.5 },
    });
    expect(spec.guard).toMatchObject({ renewPeriodSecs: 1, queryTimeoutSecs: 0.4, renewDeadlineSecs: 3, stopTimeoutSecs: 2 });
    const windows = parseClusterSpec({ name: 'tp', profile: thinprint(), guard: { failOverIntervalSecs: 10 }, healthCheck: { intervalSecs: 1, timeoutSecs: 0.5 } });
    expect(windows.guard).toMatchObject({ renewDeadlineSecs: 3, stopTimeoutSecs: 30 });
  });

  it('L = 6 is too short for systemd: L − D ≥ K + M names the deadline and the OS', () => {
    expect(() => parseClusterSpec({ ...base, guard: { failOverIntervalSecs: 6 }, healthCheck: { intervalSecs: 1, timeoutSecs: 0.5 } })).toThrow(
      'guard.renewDeadlineSecs: guard.failOverIntervalSecs − guard.renewDeadlineSecs (6s − 1.9s = 4.1s) must be ≥ K + M = 3s + 2s = 5s (K: kill-confirm bound of systemd mode, set by profile.os',
    );
  });

  it('keeps explicit values', () => {
    const spec = parseClusterSpec({
      ...base,
      nodeCount: 3,
      database: { engine: 'mysql', existing: { host: 'db.internal', username: 'pc', passwordSecretRef: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:pc' } },
      loadBalancer: { scheme: 'public', certificateRef: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' },
      notificationEmails: ['ops@example.com'],
      tags: { team: 'print' },
    });
    expect(spec.nodeCount).toBe(3);
    expect(spec.database.engine).toBe('mysql');
    expect(spec.database.existing?.host).toBe('db.internal');
    expect(spec.loadBalancer.scheme).toBe('public');
    expect(spec.notificationEmails).toEqual(['ops@example.com']);
    expect(spec.tags).toEqual({ team: 'print' });
  });
});

describe('parseClusterSpec rejections name the field', () => {
  it.each<[string, unknown, string]>([
    ['node count < 2', { ...base, nodeCount: 1 }, 'nodeCount: must be ≥ 2'],
    ['node count not an integer', { ...base, nodeCount: 2.5 }, 'nodeCount: must be an integer'],
    ['port out of range', { ...base, ports: [{ name: 'http', port: 70000 }] }, 'ports[0].port: must be 1–65535'],
    ['port zero', { ...base, ports: [{ name: 'http', port: 0 }] }, 'ports[0].port: must be 1–65535'],
    ['duplicate port', { ...base, ports: [{ name: 'a', port: 9191 }, { name: 'b', port: 9191 }] }, 'ports[1].port: port 9191 is already used by ports[0]'],
    ['port equals guard port', { ...base, ports: [{ name: 'a', port: 9180 }] }, "ports[0].port: port 9180 is the guard's health port"],
    ['shared path with ..', { ...base, sharedItems: [{ path: 'data/../../etc', type: 'directory' }] }, 'sharedItems[0].path: must not contain ".."'],
    ['shared path absolute', { ...base, sharedItems: [{ path: '/etc/passwd', type: 'file' }] }, 'sharedItems[0].path: must be relative'],
    ['shared path windows absolute', { ...base, sharedItems: [{ path: 'C:\\Windows', type: 'directory' }] }, 'sharedItems[0].path: must be relative'],
    ['shared path twice', { ...base, sharedItems: [{ path: 'data', type: 'directory' }, { path: 'data/', type: 'directory' }] }, 'sharedItems[1].path: "data/" is listed twice'],
    ['L below 5', { ...base, guard: { failOverIntervalSecs: 4 } }, 'guard.failOverIntervalSecs: must be ≥ 5'],
    ['Q > R', { ...base, guard: { renewPeriodSecs: 1, queryTimeoutSecs: 2 } }, 'guard.queryTimeoutSecs: query timeout (2s) must be ≤ the renew period (1s)'],
    ['1.1·R + 2Q > D', { ...base, guard: { renewPeriodSecs: 3, queryTimeoutSecs: 3, renewDeadlineSecs: 9 } }, 'guard.renewDeadlineSecs: renew deadline D (9s) must be ≥ 1.1 × guard.renewPeriodSecs (jitter) + 2 × guard.queryTimeoutSecs (9.3s)'],
    ['L − D < K + M', { ...base, guard: { renewDeadlineSecs: 25 } }, 'guard.renewDeadlineSecs: guard.failOverIntervalSecs − guard.renewDeadlineSecs (30s − 25s = 5s) must be ≥ K + M = 3s + 3s = 6s'],
    ['L − D < (U − H + 1)·I + T', { ...base, healthCheck: { intervalSecs: 10, timeoutSecs: 6 } }, 'healthCheck: guard.failOverIntervalSecs − renew deadline (15s) must be ≥'],
    ['health timeout ≥ interval', { ...base, healthCheck: { intervalSecs: 5, timeoutSecs: 5 } }, 'healthCheck.timeoutSecs: must be < healthCheck.intervalSecs'],
    ['floating IP with layer 7', { ...base, loadBalancer: { layer: 7, floatingIp: true } }, 'loadBalancer.floatingIp: floating IP / direct server return needs loadBalancer.layer 4'],
    ['ThinPrint on Linux', { name: 'tp', profile: { ...thinprint(), os: 'linux' } }, 'profile.os: ThinPrint Connection Service runs on Windows only'],
    ['clusterMode on a non-ThinPrint profile', { ...base, profile: { ...papercut(), clusterMode: 'single-active' } }, 'profile.clusterMode: is for ThinPrint only'],
    ['dns-multicast with a guard failoverMode', { name: 'tp', profile: { ...thinprint({ clusterMode: 'dns-multicast' }), failoverMode: 'guard' } }, 'profile.clusterMode: "dns-multicast" runs with failoverMode "dns"'],
    ['single-active with a dns failoverMode', { name: 'tp', profile: { ...thinprint(), failoverMode: 'dns' } }, 'profile.clusterMode: "single-active" runs with failoverMode "guard"'],
    ['unknown clusterMode', { name: 'tp', profile: { ...thinprint(), clusterMode: 'active-active' } }, 'profile.clusterMode:'],
    ['SMB on Linux without credentials', { ...base, storage: { kind: 'smb' } }, 'storage.credentialsSecretRef: SMB on Linux needs a credentials secret'],
    ['NFS on Windows', { ...base, profile: papercut({ os: 'windows' }), storage: { kind: 'nfs' } }, 'storage.kind: Windows nodes mount the share over SMB'],
    ['bad secret reference', { ...base, database: { existing: { host: 'h', username: 'u', passwordSecretRef: 'hunter2' } } }, 'database.existing.passwordSecretRef: must be file:<absolute path>, env:<NAME>, aws-secretsmanager:<arn> or azure-keyvault:<secret-url>'],
    ['backups under 7 days', { ...base, database: { backupRetentionDays: 1 } }, 'database.backupRetentionDays: must be ≥ 7'],
    ['bad e-mail', { ...base, notificationEmails: ['ops'] }, 'notificationEmails[0]: must be an e-mail address'],
    ['bad name', { ...base, name: 'Print Cluster' }, 'name: must be 2–32 lower-case'],
    ['bad engine', { ...base, database: { engine: 'oracle' } }, 'database.engine:'],
    ['unknown LB scheme', { ...base, loadBalancer: { scheme: 'external' } }, 'loadBalancer.scheme:'],
  ])('%s', (_name, input, expected) => {
    // when
    const problems = problemsOf(input);
    // then
    expect(problems.some((p) => p.startsWith(expected))).toBe(true);
  });

  it('lists every problem in one error: node count 1 and shared path ../etc', () => {
    // given
    const input = { ...base, nodeCount: 1, sharedItems: [{ path: '../etc', type: 'directory' }] };
    // when
    const error = (() => {
      try {
        parseClusterSpec(input);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    // then
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.message).toBe(
      'cluster spec is invalid:\n  - nodeCount: must be ≥ 2: failover needs a second node\n  - sharedItems[0].path: must not contain ".." segments',
    );
  });

  it('rejects a custom profile with the profile field named', () => {
    expect(() =>
      custom({ displayName: 'x', os: 'linux', ports: [], installDir: '/opt/x', serviceName: 'x', readiness: { kind: 'tcp', port: 1 } }),
    ).toThrow('profile.ports: at least one port');
  });
});
