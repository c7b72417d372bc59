import { SystemdNotifier } from '../../../../lib/guard/platform/systemd/sd-notify';
import { notifySocket } from '../../../harness/notify-socket';

import { silent } from '../../../harness/silent-log';

async function until(what: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && !what(); ) await new Promise((r) => setTimeout(r, 50));
}

describe('SystemdNotifier', () => {
  it('sends READY=1 and periodic WATCHDOG=1 with the guard (parent) pid as sender, as NotifyAccess=main needs', async () => {
    // given
    const socket = await notifySocket();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '800000', WATCHDOG_PID: String(process.pid) }, log: silent });
    try {
      // when
      n.ready();
      await until(() => socket.messages().filter(([, m]) => m === 'WATCHDOG=1').length >= 2, 5000);
    } finally {
      n.close();
      socket.close();
    }
    // then: as root, systemd-notify claims its parent's pid (this process) for the message
    const messages = socket.messages();
    const asRoot = process.getuid?.() === 0;
    expect(messages[0]).toEqual([asRoot ? process.pid : expect.any(Number), 'READY=1']);
    const pings = messages.filter(([, m]) => m === 'WATCHDOG=1');
    expect(pings.length).toBeGreaterThanOrEqual(2);
    if (asRoot) expect(pings.every(([pid]) => pid === process.pid)).toBe(true);
  });

  it('does nothing outside systemd, and pings only when the watchdog is meant for this process', () => {
    expect(new SystemdNotifier({ env: {}, log: silent }).watchdogMs).toBeUndefined();
    expect(new SystemdNotifier({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' }, log: silent, pid: 5 }).watchdogMs).toBeUndefined();
    expect(new SystemdNotifier({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000' }, log: silent }).watchdogMs).toBe(2000);
  });
});
