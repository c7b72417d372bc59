import { spawn, type ChildProcess } from 'child_process';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

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

export interface NotifySocket {
  /** NOTIFY_SOCKET for the process under test. */
  readonly path: string;
  /** Messages received, without systemd-notify's BARRIER=1 follow-ups: [sender pid, message]. */
  messages(): Array<[number, string]>;
  close(): void;
}

export function notifySocket(): Promise<NotifySocket> {
  const path = join(mkdtempSync(join(tmpdir(), 'notify-')), 'notify');
  const proc: ChildProcess = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  return new Promise((resolve) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const complete = (partial + d.toString()).split('\n');
      partial = complete.pop()!;
      lines.push(...complete.filter(Boolean));
      if (lines[0] === 'listening')
        resolve({
          path,
          messages: () =>
            lines
              .slice(1)
              .map((l): [number, string] => [Number(l.slice(0, l.indexOf(' '))), l.slice(l.indexOf(' ') + 1)])
              .filter(([, m]) => m !== 'BARRIER=1'),
          close: () => proc.kill(),
        });
    });
  });
}
