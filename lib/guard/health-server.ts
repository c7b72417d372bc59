import * as http from 'http';
import type { HealthSnapshot } from './election/elector';
import { METRICS_CONTENT_TYPE, type GuardMetrics } from './metrics';
import { GUARD_HEALTH_PATH, GUARD_LIVE_PATH, GUARD_METRICS_PATH, GUARD_STEP_DOWN_PATH } from '../contracts/guard-endpoints';

export interface HealthServerProps {
  /** From memory only: no database statement per probe. */
  readonly snapshot: () => HealthSnapshot;
  readonly stepDown: () => Promise<void>;
  readonly metrics: GuardMetrics;
}

/** Loopback peers only may ask a guard to step down. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * `GET /health` 200 only while active, ready and inside the renew deadline; `GET /live` 200
 * while the guard runs; `GET /metrics`; `POST /step-down` from loopback (202, handover runs on).
 */
export function createHealthServer(props: HealthServerProps): http.Server {
  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (req.method === 'GET' && path === GUARD_HEALTH_PATH) {
      // one snapshot per probe: probes come in bursts from load balancers
      const { healthy, ...body } = props.snapshot();
      const code = healthy ? 200 : 503;
      props.metrics.onProbe(code);
      return json(res, code, body);
    }
    const snapshotBody = () => {
      const { healthy: _healthy, ...body } = props.snapshot();
      return body;
    };
    if (req.method === 'GET' && path === GUARD_LIVE_PATH) return json(res, 200, { live: true, ...snapshotBody() });
    if (req.method === 'GET' && path === GUARD_METRICS_PATH) {
      const text = props.metrics.render();
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (path === GUARD_STEP_DOWN_PATH) {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' });
      if (!isLoopback(req.socket.remoteAddress)) return json(res, 403, { error: 'step-down is accepted from loopback only' });
      const before = props.snapshot();
      void props.stepDown();
      return json(res, 202, { steppingDown: before.holder === before.node, ...snapshotBody() });
    }
    return json(res, 404, { error: 'not found' });
  });
}
