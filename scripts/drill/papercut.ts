/**
 * `npm run drill:papercut`: the PaperCut stand-in (vendor layout, real `database.*` keys) under
 * real guards running papercut()'s hooks, on embedded PostgreSQL (or `--mariadb`). Alternates
 * kill -9 of the active node and a password rotation + step-down, and after every activation
 * prints who is active, which database user the app is connected as, how often `db-tools
 * init-db` ran and the network address the app stored; at the end the median seconds from the
 * fault to the next node ready. Exit 1 when any check failed.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { bundleGuard } from '../../test/harness/guard-bundle';
import { ActiveChecker } from '../../test/harness/guard-cluster';
import { StandinCluster } from '../../test/harness/papercut-standin';
import type { TestDatabase } from '../../test/harness/database';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(argv: string[]): Promise<number> {
  const events = Number(argv.find((a) => a.startsWith('--events='))?.split('=')[1] ?? 4);
  const mariadb = argv.includes('--mariadb');
  const root = mkdtempSync(join(tmpdir(), 'fc11-pc-drill-'));
  const db: TestDatabase = mariadb ? await (await import('../../test/harness/mariadb')).startMariadb() : await (await import('../../test/harness/postgres')).startPostgres();
  const checker = new ActiveChecker();
  let pc: StandinCluster | undefined;
  let ok = true;
  const check = (what: string, good: boolean) => {
    if (!good) ok = false;
    return `${what} ${good ? 'ok' : 'FAILED'}`;
  };
  try {
    pc = await StandinCluster.create(db, root, bundleGuard(root), { cluster: 'pc-drill' });
    const cluster = pc;
    checker.watch(cluster.nodes);
    checker.start();
    let activations = 0;
    const report = async (event: string, ms?: number) => {
      const active = await cluster.active();
      activations++;
      // ready (200) comes only after the after-ready hook, so this activation's call is there
      const calls = cluster.addressCalls();
      const address = await cluster.networkAddress();
      const sessions = await cluster.appSessions();
      const inits = cluster.dbToolsCalls().length;
      console.log(
        `${event.padEnd(26)} active ${active.name}${ms === undefined ? '' : `, ready ${(ms / 1000).toFixed(1)} s after the fault`}; ` +
          [
            check(`app sessions as papercut_app: ${sessions}`, sessions === 1),
            check(`db-tools init-db runs: ${inits}`, inits === 1),
            check(`set-config system.network-address ${address} by ${calls.at(-1)?.node} (call ${calls.length})`, address === cluster.lbName && calls.length === activations && calls.at(-1)?.node === active.name),
          ].join('; '),
      );
      return active;
    };
    console.log(`PaperCut stand-in drill on ${db.name}: ${cluster.nodes.length} guards, L = 6 s, ${events} events`);
    cluster.nodes.forEach((n) => n.start());
    let active = await report('first activation');
    const times: Record<string, number[]> = { 'kill -9': [], 'rotate + step-down': [] };
    for (let i = 1; i <= events; i++) {
      const old = active;
      const t0 = Date.now();
      let event: string;
      if (i % 2 === 1) {
        event = `kill -9 ${old.name}`;
        await old.kill();
      } else {
        event = `rotate + step-down ${old.name}`;
        cluster.rotate(`rotated-${i}-${Date.now()}`);
        if (old.cli('step-down').code !== 0) ok = false;
      }
      const others = cluster.nodes.filter((n) => n !== old);
      active = await cluster.active(others, 60000);
      const ms = Date.now() - t0;
      times[i % 2 === 1 ? 'kill -9' : 'rotate + step-down'].push(ms);
      await report(event, ms);
      if (i % 2 === 1) old.start();
    }
    for (const [kind, ms] of Object.entries(times)) console.log(`median ${kind} → next node ready: ${(median(ms) / 1000).toFixed(1)} s (${ms.length} events)`);
    console.log(check(`at most one active (${checker.samples} samples)`, checker.violations.length === 0));
  } finally {
    checker.stop();
    await pc?.stop();
    await db.close();
    rmSync(root, { recursive: true, force: true });
  }
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack : String(e));
    process.exit(1);
  },
);
