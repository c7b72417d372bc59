import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadGuardConfig } from '../../lib/guard/config';
import { ValidationError } from '../../lib/problems/problems';
import { createStore, runGuard } from '../../lib/guard/daemon';
import { MysqlLeaseStore } from '../../lib/guard/lease/mysql-store';
import { PgLeaseStore } from '../../lib/guard/lease/pg-store';
import { DEMO_APP } from '../harness/guard-cluster';
import { httpGet } from '../harness/health';
import { waitFor } from '../harness/wait';
import { freePort } from '../harness/ports';
import { notifySocket } from '../harness/notify-socket';
import { systemClock } from '../../lib/guard/election/clock';

import { silent } from '../harness/silent-log';

describe('runGuard', () => {
  it('single-server mode (enabled=N) runs the app without a database; /health follows readiness', async () => {
    // given
    const [healthPort, appPort] = [await freePort(), await freePort()];
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = mkdtempSync(join(tmpdir(), 'guard-standalone-')); // the pid file goes there
    const r = loadGuardConfig(
      [
        'cluster.name=solo',
        'high-availability-guard.enabled=N',
        `health.port=${healthPort}`,
        'health.bind=127.0.0.1',
        `service.command=PORT=${appPort} exec node ${DEMO_APP}`,
        `service.ready=tcp://127.0.0.1:${appPort}`,
      ].join('\n'),
      {},
      'solo-host',
    );
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    // when: under a (stand-in) systemd notify socket
    const socket = await notifySocket();
    const guard = await runGuard(r.config, silent, systemClock, { NOTIFY_SOCKET: socket.path });
    try {
      await waitFor('standalone /health 200', async () => (await httpGet(healthPort, '/health')).code === 200, 5000);
      // then
      expect((await httpGet(healthPort, '/health')).body).toMatchObject({ role: 'standalone', node: 'solo-host', ready: true });
      expect((await httpGet(appPort, '/')).body).toMatchObject({ node: 'solo-host', term: 0 });
      // and systemd heard READY=1 from the guard's own pid (Type=notify, NotifyAccess=main)
      await waitFor('READY=1', async () => socket.messages().length > 0, 5000);
      expect(socket.messages()[0]).toEqual([process.getuid?.() === 0 ? process.pid : expect.any(Number), 'READY=1']);
    } finally {
      socket.close();
      await guard.shutdown();
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    await guard.done;
    expect((await httpGet(appPort, '/')).code).toBe(0);
  });
});

describe('createStore', () => {
  const config = (url: string) => {
    const r = loadGuardConfig(['cluster.name=c', 'node.id=a', `database.url=${url}`, 'service.command=x'].join('\n'));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return r.config;
  };

  it.each([
    ['postgres://g@127.0.0.1/db', PgLeaseStore],
    ['postgresql://g@127.0.0.1/db', PgLeaseStore],
    ['mysql://g@127.0.0.1/db?ssl-mode=REQUIRED', MysqlLeaseStore],
    ['mariadb://g@127.0.0.1/db', MysqlLeaseStore],
  ])('%s → %p', (url, kind) => {
    expect(createStore(config(url))).toBeInstanceOf(kind);
  });

  it('refuses any other database as a config problem naming database.url', () => {
    // given: a config that bypassed the loader's check
    const c = { ...config('postgres://g@127.0.0.1/db'), databaseUrl: 'sqlite://g@127.0.0.1/db' };
    // when / then
    expect(() => createStore(c)).toThrow(ValidationError);
    expect(() => createStore(c)).toThrow(/database\.url: must start with postgres/);
  });
});
