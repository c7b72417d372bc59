/**
 * What the drill watches: every guard's /health every 50 ms (the sampler), a client sending one
 * request at a time through HAProxy every 50 ms, and pure functions that turn those records
 * (plus HAProxy's log) into figures and violations.
 */
import * as http from 'http';
import type { ServedRecord } from '../../test/harness/haproxy';
import type { HealthAnswer } from '../../test/harness/health';
import { sleep } from '../../test/harness/wait';

export const SAMPLE_MS = 50;

/** What a node's app answered when asked directly (not through the load balancer). */
export interface AppAnswer {
  /** It answered 200: it serves. */
  readonly ok: boolean;
  /** It answered while stopping gracefully (the demo app's DEMO_STOP_MS). */
  readonly stopping?: boolean;
}

/** One sample: every node's /health (and, where the node offers it, its app), asked at the same moment. */
export interface Sample {
  readonly t: number;
  readonly answers: readonly HealthAnswer[];
  /** Each node's app asked directly: a client with a stale DNS answer or an open connection reaches it whatever the load balancer thinks. */
  readonly apps?: readonly AppAnswer[];
}

/** Timeout of one direct app probe. */
export const APP_PROBE_TIMEOUT_MS = 500;

/** GET http://host:port/ of an app; never throws. */
export function probeApp(host: string, port: number, timeoutMs = APP_PROBE_TIMEOUT_MS): Promise<AppAnswer> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ ok: res.statusCode === 200, stopping: text.includes('"stopping":true') }));
      res.on('error', () => resolve({ ok: false }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ ok: false }));
  });
}

/** Roles in which a guard still holds the lease (its app may serve). */
const HOLDING = new Set(['active', 'starting', 'draining']);

/** A node the sampler asks (drill processes and booted nodes alike). */
export interface SampledNode {
  readonly name: string;
  health(): Promise<HealthAnswer>;
  /** Its app asked directly. @default - not probed */
  app?(): Promise<AppAnswer>;
}

export class Sampler {
  readonly samples: Sample[] = [];
  onSample?: (s: Sample) => void;
  private timer?: NodeJS.Timeout;

  constructor(readonly nodes: readonly SampledNode[]) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
  }

  private async sample(): Promise<void> {
    const t = Date.now();
    const [answers, apps] = await Promise.all([Promise.all(this.nodes.map((n) => n.health())), Promise.all(this.nodes.map((n) => n.app?.() ?? { ok: false }))]);
    const s = { t, answers, apps };
    this.samples.push(s);
    this.onSample?.(s);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Names of the nodes that answered 200 in the newest sample. */
  active(): string[] {
    const s = this.samples[this.samples.length - 1];
    return s ? this.nodes.filter((_, i) => s.answers[i].code === 200).map((n) => n.name) : [];
  }
}

/** One client request through HAProxy. */
export interface ClientResult {
  readonly t0: number;
  readonly t1: number;
  readonly ok: boolean;
  /** Who served, from the body (tcp) or the X-Served-By header (http). */
  readonly node?: string;
}

/** A bounded request loop: one request at a time, a new one every 50 ms (1 s timeout). */
export class Client {
  readonly results: ClientResult[] = [];
  private running = false;
  private done?: Promise<void>;

  constructor(private readonly port: number) {}

  start(): void {
    this.running = true;
    this.done = (async () => {
      while (this.running) {
        const t0 = Date.now();
        const r = await this.once();
        this.results.push({ t0, t1: Date.now(), ...r });
        await sleep(Math.max(0, SAMPLE_MS - (Date.now() - t0)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private once(): Promise<{ ok: boolean; node?: string }> {
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, path: '/', timeout: 1000, agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let node = res.headers['x-served-by'] as string | undefined;
          try {
            node ??= (JSON.parse(text) as { node?: string }).node;
          } catch {
            // not the app's answer
          }
          resolve({ ok: res.statusCode === 200, node });
        });
        res.on('error', () => resolve({ ok: false }));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve({ ok: false }));
    });
  }

  /** Share of requests that completed in the last `ms` and succeeded (1 when none completed). */
  successRate(now: number, ms = 1000): number {
    let n = 0;
    let ok = 0;
    for (let i = this.results.length - 1; i >= 0 && this.results[i].t1 >= now - ms; i--) {
      n++;
      if (this.results[i].ok) ok++;
    }
    return n === 0 ? 1 : ok / n;
  }
}

/** Samples where two or more nodes answered 200 at once. */
export function doubleActive(samples: readonly Sample[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of samples) {
    const on = names.filter((_, i) => s.answers[i]?.code === 200);
    if (on.length > 1) out.push(`${new Date(s.t).toISOString()} double active: ${on.join(', ')} all answered /health 200 in one sample`);
  }
  return out;
}

/** A node's fence: from `at` until its next tenure starts (`until`), it must serve nothing. */
export interface Fence {
  readonly node: string;
  readonly term: number;
  readonly at: number;
  readonly until: number;
  readonly why: 'own-role' | 'successor';
}

/** Allowance after a node's own /health shows it gave up the lease: the guard has just sent SIGTERM to the app. */
export const STOP_ALLOWANCE_MS = 100;

/**
 * Fence times from the /health samples. A tenure of node X is a run of 200 answers with one
 * term. It ends at its fence F = the earlier of
 *  (a) the first sample after the tenure in which X answers with a role that does not hold the
 *      lease (fenced, passive, backoff, maintenance, stopped), plus STOP_ALLOWANCE_MS, and
 *  (b) the first sample in which another node answers 200 (a successor is active).
 * ("draining" and "starting" hold the lease; no answer at all — dead, paused, cut off — ends
 * the tenure only through (b).) The fence lasts until X holds the lease again in a newer term:
 * until X's last sample before the first one showing a newer term in a holding role (the new
 * lease was won somewhere after that sample; HAProxy may see the new 200 before we do).
 */
export function fences(samples: readonly Sample[], names: readonly string[]): Fence[] {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const out: Fence[] = [];
  const open: ({ term: number } | undefined)[] = names.map(() => undefined);
  const closed: (Omit<Fence, 'until'> | undefined)[] = names.map(() => undefined);
  const prev: number[] = names.map(() => -Infinity);
  const finish = (i: number, until: number) => {
    const c = closed[i];
    if (c) out.push({ ...c, until });
    closed[i] = undefined;
  };
  for (const s of sorted) {
    s.answers.forEach((a, i) => {
      const holding = a.code === 200 || (a.role !== undefined && HOLDING.has(a.role));
      if (holding && closed[i] && a.term !== undefined && a.term > closed[i]!.term) finish(i, prev[i]);
      if (a.code === 200) {
        if (!open[i] || open[i]!.term !== a.term) {
          finish(i, prev[i]);
          open[i] = { term: a.term ?? -1 };
        }
        // successor rule: every other open tenure is fenced now
        open.forEach((o, j) => {
          if (j !== i && o) {
            closed[j] = { node: names[j], term: o.term, at: s.t, why: 'successor' };
            open[j] = undefined;
          }
        });
      } else if (open[i] && a.code !== 0 && a.role !== undefined && !HOLDING.has(a.role)) {
        closed[i] = { node: names[i], term: open[i]!.term, at: s.t + STOP_ALLOWANCE_MS, why: 'own-role' };
        open[i] = undefined;
      }
      prev[i] = s.t;
    });
  }
  names.forEach((_, i) => finish(i, Infinity));
  return out;
}

/** Requests HAProxy says node X served after X's fence (accept time inside a fence window). */
export function servedAfterFence(records: readonly ServedRecord[], fs: readonly Fence[], context?: (node: string, t: number) => string): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (!r.served) continue;
    const f = fs.find((x) => x.node === r.server && r.acceptedAt > x.at && r.acceptedAt < x.until);
    if (f) out.push(`${new Date(r.acceptedAt).toISOString()} ${r.server} served a request ${r.acceptedAt - f.at} ms after its fence (term ${f.term}, ${f.why})${context ? `; ${context(r.server, r.acceptedAt)}` : ''}`);
  }
  return out;
}

/** After a whole node resumes (SIGCONT of a paused VM), its app may answer before its guard runs at all: such answers are counted apart. */
export const RESUME_ALLOWANCE_MS = 1000;

/** A whole node (guard and app) resumed at `at`. */
export interface Resume {
  readonly node: string;
  readonly at: number;
}

/** Answers of fenced nodes' apps, asked directly. */
export interface ServedByFenced {
  /** One line per fence in which the node's app answered. */
  readonly violations: string[];
  /** Answers after a fence (violations). */
  readonly answers: number;
  /** Answers within {@link RESUME_ALLOWANCE_MS} of a whole-node resume (not violations: nothing on the node ran before). */
  readonly onResume: number;
}

/**
 * Served by a fenced node, seen from the app itself: node X's app answered a direct request sent
 * inside one of X's fence windows (after its own role gave up the lease, or after a successor
 * became active; until X holds the lease again). This catches what HAProxy cannot: an app that
 * keeps serving while its guard is stalled (HAProxy marks the node down on the guard's missing
 * /health, clients with a stale address or connection do not).
 */
export function servedByFencedApp(samples: readonly Sample[], names: readonly string[], fs: readonly Fence[], resumes: readonly Resume[] = []): ServedByFenced {
  const hits = new Map<Fence, { first: number; last: number; n: number; stopping: number }>();
  let answers = 0;
  let onResume = 0;
  for (const s of samples) {
    s.apps?.forEach((a, i) => {
      if (!a.ok) return;
      const node = names[i];
      const f = fs.find((x) => x.node === node && s.t > x.at && s.t < x.until);
      if (!f) return;
      if (resumes.some((r) => r.node === node && s.t >= r.at - APP_PROBE_TIMEOUT_MS && s.t <= r.at + RESUME_ALLOWANCE_MS)) {
        onResume++;
        return;
      }
      answers++;
      const h = hits.get(f) ?? { first: s.t, last: s.t, n: 0, stopping: 0 };
      h.last = s.t;
      h.n++;
      if (a.stopping) h.stopping++;
      hits.set(f, h);
    });
  }
  const violations = [...hits].map(
    ([f, h]) => `${new Date(h.first).toISOString()} ${f.node}'s app answered ${h.n} direct request(s) from ${h.first - f.at} to ${h.last - f.at} ms after its fence (term ${f.term}, ${f.why})${h.stopping ? `, ${h.stopping} of them while stopping gracefully` : ''}`,
  );
  return { violations, answers, onResume };
}

/** What the samples said about `node` around `t` (for violation reports). */
export function sampleContext(samples: readonly Sample[], names: readonly string[], node: string, t: number): string {
  const i = names.indexOf(node);
  const near = samples.filter((s) => Math.abs(s.t - t) <= 300);
  return `${node} samples around it: ${near.map((s) => `${s.t - t}ms ${s.answers[i].code}/${s.answers[i].role ?? '-'}/${s.answers[i].term ?? '-'}`).join(', ')}`;
}

/** Median, p95, min and max of a list (undefined when empty). */
export function distribution(xs: readonly number[]): { n: number; median: number; p95: number; min: number; max: number } | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.max(0, Math.min(s.length - 1, Math.ceil(p * s.length) - 1))];
  return { n: s.length, median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
}

/**
 * Failover time: from `from` (the fault) to the first sample in which some node answers 200
 * other than `old` with its term — another node, or the same node in a newer term (undefined
 * when none did before `end`: the old active kept its lease).
 */
export function failoverMs(samples: readonly Sample[], names: readonly string[], old: { node: string; term?: number } | undefined, from: number, end: number): number | undefined {
  for (const s of samples) {
    if (s.t < from || s.t >= end) continue;
    if (s.answers.some((a, i) => a.code === 200 && (names[i] !== old?.node || a.term !== old.term))) return s.t - from;
  }
  return undefined;
}

/** Client-visible downtime: first failed request sent at or after `from` → the next success (0 when none failed before `end`). */
export function downtimeMs(results: readonly ClientResult[], from: number, end: number): number | undefined {
  const i = results.findIndex((r) => r.t0 >= from && r.t0 < end && !r.ok);
  if (i < 0) return 0;
  const next = results.slice(i + 1).find((r) => r.ok);
  return next ? next.t1 - results[i].t0 : undefined;
}

const s1 = (ms: number | undefined) => (ms === undefined ? '   —  ' : `${(ms / 1000).toFixed(2)}s`.padStart(6));
export const fmtSecs = s1;

/** Prints one line per change of who is active (and HAProxy server state changes). */
export class Timeline {
  private last = '';
  constructor(
    private readonly t0: number,
    private readonly names: readonly string[],
    private readonly client: Client,
    private readonly print: (line: string) => void,
  ) {}

  stamp(t = Date.now()): string {
    return `T+${((t - this.t0) / 1000).toFixed(2).padStart(7)}s`;
  }

  sample(s: Sample): void {
    const on = this.names.map((n, i) => ({ n, a: s.answers[i] })).filter((x) => x.a.code === 200);
    const key = on.length === 0 ? 'none' : on.map((x) => `${x.n} (term ${x.a.term})`).join(' + ');
    if (key === this.last) return;
    this.last = key;
    const rate = Math.round(this.client.successRate(s.t) * 100);
    this.print(`${this.stamp(s.t)}  active: ${key.padEnd(16)} client ok (last 1 s): ${String(rate).padStart(3)}%`);
  }

  note(text: string): void {
    this.print(`${this.stamp()}  ${text}`);
  }
}
