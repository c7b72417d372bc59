import { spawn, type ChildProcess } from 'child_process';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SystemdNotifier } from '../../lib/guard/sd-notify';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A stand-in for systemd's notify socket: a unix datagram socket with SO_PASSCRED (as PID 1 has),
 * printing "<sender pid> <message>" per datagram (Python: Node cannot bind unix datagrams).
 */
const LISTENER = `
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(pid, data.decode().strip(), flush=True)
`;

function listen(path: string): Promise<{ proc: ChildProcess; lines: string[] }> {
  const proc = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  return new Promise((resolve) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      lines.push(...complete.filter(Boolean));
      if (lines[0] === 'listening') resolve({ proc, lines });
    });
  });
}

async function until(what: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && !what(); ) await new Promise((r) => setTimeout(r, 50));
}

describe('SystemdNotifier', () => {
  it('sends READY=1 and periodic WATCHDOG=1 with the guard (parent) pid as sender, as NotifyAccess=main needs', async () => {
    // given
    const socket = join(mkdtempSync(join(tmpdir(), 'sdn-')), 'notify');
    const { proc, lines } = await listen(socket);
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '800000', WATCHDOG_PID: String(process.pid) }, log: silent });
    try {
      // when
      n.ready();
      await until(() => lines.filter((l) => l.endsWith('WATCHDOG=1')).length >= 2, 5000);
    } finally {
      n.close();
      proc.kill();
    }
    // then: as root, systemd-notify claims its parent's pid (this process) for the message
    // (systemd-notify ≥ 246 follows each message with a BARRIER=1 carrying a pipe fd)
    const messages = lines
      .slice(1)
      .map((l) => l.split(' '))
      .filter((m) => m[1] !== 'BARRIER=1');
    expect(messages[0]).toEqual([process.getuid?.() === 0 ? String(process.pid) : expect.any(String), 'READY=1']);
    const pings = messages.filter((m) => m[1] === 'WATCHDOG=1');
    expect(pings.length).toBeGreaterThanOrEqual(2);
    if (process.getuid?.() === 0) expect(pings.every((m) => m[0] === String(process.pid))).toBe(true);
  });

  it('does nothing outside systemd, and pings only when the watchdog is meant for this process', () => {
    expect(new SystemdNotifier({ env: {}, log: silent }).watchdogMs).toBeUndefined();
    expect(new SystemdNotifier({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' }, log: silent, pid: 5 }).watchdogMs).toBeUndefined();
    expect(new SystemdNotifier({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000' }, log: silent }).watchdogMs).toBe(2000);
  });
});
