import * as http from 'http';

/** What a guard's /health says (other paths: whatever JSON came back). */
export interface HealthBody {
  readonly role: string;
  readonly term: number;
  readonly holder: string | null;
  readonly ready: boolean;
  readonly leaseRemainingMs: number;
}

export interface HealthAnswer {
  /** 0 = no answer (refused, timed out, unreachable). */
  readonly code: number;
  /** The JSON body, when it was JSON. */
  readonly body?: HealthBody;
  /** `body.role` and `body.term`, for samplers. */
  readonly role?: string;
  readonly term?: number;
}

/** GET http://host:port/path with a short timeout; never throws. */
export function httpGet(port: number, path: string, timeoutMs = 300, host = '127.0.0.1'): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, timeout: timeoutMs, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let body: HealthBody | undefined;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ code: res.statusCode ?? 0, body, role: body?.role, term: body?.term });
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ code: 0 }));
  });
}
