import * as http from 'http';
import * as https from 'https';
import * as net from 'net';

/**
 * `service.ready` probe: `http(s)://…` is ready on a 2xx/3xx answer, `tcp://host:port` when a
 * connection opens. Never throws; a timeout is "not ready".
 */
export function probeReady(url: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => resolve(ok);
    if (url.startsWith('tcp://')) {
      const m = /^tcp:\/\/([^:/]+):(\d+)$/.exec(url);
      if (!m) return done(false);
      const sock = net.connect({ host: m[1], port: Number(m[2]), timeout: timeoutMs });
      sock.once('connect', () => (sock.destroy(), done(true)));
      sock.once('timeout', () => (sock.destroy(), done(false)));
      sock.once('error', () => done(false));
      return;
    }
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { timeout: timeoutMs, headers: { 'user-agent': 'failover-guard' } }, (res) => {
      res.resume();
      done(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
    });
    req.once('timeout', () => (req.destroy(), done(false)));
    req.once('error', () => done(false));
  });
}
