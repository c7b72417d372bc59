/**
 * The guard in systemd mode on booted nodes (systemd 252 in systemd-nspawn, the rendered boot
 * script, the demo app as a systemd unit): one test per systemd behaviour the guard relies on. Two nodes,
 * L = 15 s (R 1.5, D 7.5, S 5.5, watchdog 1.5 s). Every test starts from one active node and
 * checks, besides its own claim, that no two nodes answered /health 200 in one sample.
 */
import { httpGet } from '../harness/health';
import { sleep } from '../harness/wait';
import { doubleActive, Sampler } from '../../scripts/drill/observe';
import { APP_PORT, APP_UNIT, BootedCluster, GUARD_UNIT, nodePrerequisiteProblems, type BootedNode } from '../harness/booted-nodes';

const L = 15000;
let cluster: BootedCluster;
let sampler: Sampler;
let samplesBefore = 0;

/** The term the app itself says it runs with (undefined: it does not answer). */
async function appTerm(n: BootedNode): Promise<number | undefined> {
  return (await httpGet(APP_PORT, '/', 500, n.addr)).body?.term;
}

/** Waits for exactly one node answering 200 whose app answers with the guard's term. */
async function activeNode(timeoutMs = 3 * L): Promise<{ node: BootedNode; term: number }> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const answers = await Promise.all(cluster.nodes.map((n) => n.health()));
    const on = answers.map((a, i) => ({ a, n: cluster.nodes[i] })).filter((x) => x.a.code === 200);
    if (on.length === 1 && on[0].a.term !== undefined && (await appTerm(on[0].n)) === on[0].a.term) return { node: on[0].n, term: on[0].a.term };
    await sleep(200);
  }
  throw new Error(`no single active node within ${timeoutMs} ms`);
}

/** Polls until some node answers 200 in a term newer than `term`; resolves with the ms it took. */
async function newTermAfter(term: number, t0: number, timeoutMs: number): Promise<number | undefined> {
  while (Date.now() - t0 < timeoutMs) {
    const answers = await Promise.all(cluster.nodes.map((n) => n.health(500)));
    if (answers.some((a) => a.code === 200 && (a.term ?? 0) > term)) return Date.now() - t0;
    await sleep(100);
  }
  return undefined;
}

const other = (n: BootedNode): BootedNode => cluster.nodes.find((x) => x !== n)!;

beforeAll(async () => {
  const problems = nodePrerequisiteProblems();
  if (problems.length) throw new Error(`booted-node tests need:\n${problems.join('\n')}`);
  cluster = new BootedCluster({ nodes: 2, leaseSecs: L / 1000 });
  await cluster.start();
  sampler = new Sampler(cluster.nodes);
  sampler.start();
}, 180000);

afterAll(async () => {
  sampler?.stop();
  const left = await cluster?.teardown();
  expect(left).toEqual([]);
}, 60000);

beforeEach(() => {
  samplesBefore = sampler?.samples.length ?? 0;
});

afterEach(() => {
  // no test may ever show two active nodes at once
  expect(doubleActive(sampler.samples.slice(samplesBefore), cluster.nodes.map((n) => n.name))).toEqual([]);
});

describe('guard in systemd mode on booted systemd 252 nodes', () => {
  it('after `systemctl kill -s KILL` of the guard the app is killed, and is never restarted with the old term while the guard auto-restarts', async () => {
    // given
    const { node, term } = await activeNode();
    const t0 = Date.now();
    const t0us = Number(process.hrtime.bigint() / 1000n);
    // when
    await node.systemctl('kill', '-s', 'KILL', GUARD_UNIT);
    // then: for the whole restart cycle, whenever its app answers, it answers with a newer term
    // that its own guard holds
    const stale: string[] = [];
    let stopped = false;
    while (Date.now() - t0 < 12000) {
      const [state, served, health] = await Promise.all([node.state(APP_UNIT), appTerm(node), node.health(500)]);
      if (state !== 'active' && state !== 'deactivating') stopped = true;
      if (served !== undefined && served <= term && Date.now() - t0 > 2000) stale.push(`${Date.now() - t0} ms: the app serves term ${served} (guard: ${health.role} term ${health.term})`);
      if (served !== undefined && served > term && health.term !== served) stale.push(`${Date.now() - t0} ms: the app serves term ${served}, its guard is ${health.role} in term ${health.term}`);
      await sleep(200);
    }
    expect(stale).toEqual([]);
    expect(stopped).toBe(true);
    expect(await node.unitInactiveAt(APP_UNIT, t0us)).toBeDefined();
    // killed like a fence (the guard that ended cannot prove its lease), never stopped gracefully
    const journal = await node.exec(['/bin/journalctl', '--no-pager', '-o', 'cat', '-u', APP_UNIT, `--since=@${Math.floor(t0 / 1000)}`]);
    expect(journal.stdout).toMatch(/Main process exited, code=killed, status=9\/KILL/);
  }, 90000);

  it('`systemctl restart` of the guard drains first (the app serves while /health says draining), and systemd never starts the app on its own', async () => {
    // given
    const { node, term } = await activeNode();
    const t0 = Date.now();
    // when
    // a restart is a planned handover (drain, graceful stop, release, start): give it more than exec's default 20 s on a loaded machine
    const restarted = node.exec(['/bin/systemctl', 'restart', GUARD_UNIT], 60000);
    // then
    let drainedWithApp = false;
    const foreign: string[] = [];
    while (Date.now() - t0 < 12000) {
      const [served, health] = await Promise.all([appTerm(node), node.health(500)]);
      if (health.role === 'draining' && served === term) drainedWithApp = true;
      // an app not started by its guard in the guard's current term
      if (served !== undefined && health.code !== 0 && !(health.term === served && ['active', 'starting', 'draining'].includes(health.role ?? ''))) {
        foreign.push(`${Date.now() - t0} ms: the app serves term ${served}, its guard is ${health.role} in term ${health.term}`);
      }
      await sleep(100);
    }
    expect((await restarted).code).toBe(0);
    expect(foreign).toEqual([]);
    expect(drainedWithApp).toBe(true);
  }, 90000);

  it('nothing but the guard starts the app: `systemctl start` of the app on a passive node fails and leaves it stopped', async () => {
    // given
    const { node } = await activeNode();
    const passive = other(node);
    // when
    const r = await passive.systemctl('start', APP_UNIT);
    await sleep(1000);
    // then
    expect(r.code).not.toBe(0);
    expect(await passive.state(APP_UNIT)).not.toBe('active');
    expect(await appTerm(passive)).toBeUndefined();
  }, 90000);

  it('a step-down waits until the app unit is really stopped (not merely deactivating) before another node becomes active', async () => {
    // given: the active node's app takes long to stop (ExecStop that never finishes; systemd gives up after TimeoutStopSec)
    const { node, term } = await activeNode();
    const peer = other(node);
    await node.exec(['/bin/sh', '-c', `mkdir -p /run/systemd/system/${APP_UNIT}.d && printf '[Service]\\nExecStop=/bin/sleep 120\\n' > /run/systemd/system/${APP_UNIT}.d/slow-stop.conf && systemctl daemon-reload`]);
    try {
      // when
      const t0 = Date.now();
      const stepDown = await node.exec(['/usr/local/bin/failover-guard', 'step-down', '--config', '/etc/failover-guard/guard.properties']);
      expect(stepDown.code).toBe(0);
      // then: while the old app still serves, the peer never answers 200
      const overlaps: string[] = [];
      let took: number | undefined;
      while (Date.now() - t0 < 3 * L && took === undefined) {
        const [served, peerHealth] = await Promise.all([appTerm(node), peer.health(500)]);
        if (served !== undefined && peerHealth.code === 200) overlaps.push(`${Date.now() - t0} ms: ${peer.name} active (term ${peerHealth.term}) while ${node.name}'s app still serves term ${served}`);
        if (peerHealth.code === 200 && (peerHealth.term ?? 0) > term && served === undefined) took = Date.now() - t0;
        await sleep(100);
      }
      expect(overlaps).toEqual([]);
      expect(took).toBeDefined();
    } finally {
      await node.exec(['/bin/sh', '-c', `rm -rf /run/systemd/system/${APP_UNIT}.d && systemctl daemon-reload`]);
    }
  }, 120000);

  it('an app crash is noticed at once: a node serves again in a newer term well before the startup timeout (60 s)', async () => {
    // given
    const { node, term } = await activeNode();
    const t0 = Date.now();
    // when
    await node.systemctl('kill', '-s', 'KILL', APP_UNIT);
    // then
    const took = await newTermAfter(term, t0, 50000);
    expect(took).toBeDefined();
    expect(took!).toBeLessThan(L + 10000);
  }, 90000);

  it("a guard starting on another node (its cleanup kills its own app unit's cgroup) leaves the active node's app serving in its term", async () => {
    // given
    const { node, term } = await activeNode();
    const passive = other(node);
    // when: the passive node's guard starts anew; at start it kills whatever its app unit's cgroup holds
    await passive.systemctl('restart', GUARD_UNIT);
    await passive.waitGuardServing();
    await sleep(3000);
    // then: the active node's app was never touched (a node's cgroups are its own, as on a machine)
    expect(await node.state(APP_UNIT)).toBe('active');
    expect(await appTerm(node)).toBe(term);
    expect((await node.health()).code).toBe(200);
  }, 90000);

  it("after the guard is killed, its own-name lease does not block the cluster until it expires: a newer term serves before L", async () => {
    // given
    const { node, term } = await activeNode();
    const t0 = Date.now();
    // when
    await node.systemctl('kill', '-s', 'KILL', GUARD_UNIT);
    // then: the restarted guard reclaims or releases its lease (it restarts after RestartSec = 2 s)
    const took = await newTermAfter(term, t0, 2 * L);
    expect(took).toBeDefined();
    expect(took!).toBeLessThan(L - 3000);
  }, 90000);

  it('a frozen guard (SIGSTOP) is killed by the systemd watchdog and its app stopped before the lease can move', async () => {
    // given
    const { node, term } = await activeNode();
    const peer = other(node);
    const pid = await node.mainPid(GUARD_UNIT);
    const t0us = Number(process.hrtime.bigint() / 1000n);
    const t0 = Date.now();
    // when
    await node.exec(['/bin/kill', '-STOP', String(pid)]);
    // then: when anyone serves a newer term, the frozen node's app is gone
    const overlaps: string[] = [];
    let moved = false;
    while (Date.now() - t0 < 2 * L && !moved) {
      const [served, peerHealth, ownHealth] = await Promise.all([appTerm(node), peer.health(500), node.health(500)]);
      const newer = [peerHealth, ownHealth].some((h) => h.code === 200 && (h.term ?? 0) > term);
      if (newer && served === term) overlaps.push(`${Date.now() - t0} ms: a newer term serves while the frozen node's app still serves term ${term}`);
      moved = newer;
      await sleep(100);
    }
    await node.exec(['/bin/kill', '-CONT', String(pid)]);
    expect(overlaps).toEqual([]);
    expect(moved).toBe(true);
    expect(await node.mainPid(GUARD_UNIT)).not.toBe(pid);
    const stoppedAt = await node.unitInactiveAt(APP_UNIT, t0us);
    expect(stoppedAt).toBeDefined();
    // the app was gone before the lease could expire for the others
    expect((stoppedAt! - t0us) / 1000).toBeLessThan(L);
  }, 90000);
});
