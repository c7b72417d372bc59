/** notify.command run for real by the guard (a shell command). @tier process */
import { existsSync, mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { notifyEnv, runNotify } from '../../lib/guard/notify';

import { silent } from '../harness/silent-log';

describe('notify.command', () => {
  it('gets the event, role, term, node and cluster in its environment', async () => {
    // given
    const out = join(mkdtempSync(join(tmpdir(), 'notify-')), 'out');
    // when
    runNotify(`echo "$FAILOVER_GUARD_EVENT $FAILOVER_GUARD_ROLE $FAILOVER_GUARD_TERM $FAILOVER_GUARD_NODE $FAILOVER_GUARD_CLUSTER" > ${out}`, { event: 'fenced', role: 'fenced', term: 4 }, 'print', 'a', silent);
    for (let i = 0; i < 100 && !(existsSync(out) && readFileSync(out, 'utf8').includes('\n')); i++) await new Promise((r) => setTimeout(r, 20));
    // then
    expect(readFileSync(out, 'utf8')).toBe('fenced fenced 4 a print\n');
  });

  it('adds the detail only when there is one', () => {
    expect(notifyEnv({ event: 'startup-timeout', role: 'draining', term: 2, detail: 'x' }, 'c', 'n').FAILOVER_GUARD_DETAIL).toBe('x');
    expect('FAILOVER_GUARD_DETAIL' in notifyEnv({ event: 'ready', role: 'active', term: 2 }, 'c', 'n')).toBe(false);
  });
});
