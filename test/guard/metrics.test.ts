import { GuardMetrics } from '../../lib/guard/metrics';

describe('GuardMetrics', () => {
  it('exports whether another live guard process beats under this node id', () => {
    // given
    let duplicate = false;
    const metrics = new GuardMetrics(() => 0, { duplicateNodeId: () => duplicate });
    // when / then
    expect(metrics.render()).toContain('# TYPE failover_guard_duplicate_node_id gauge\nfailover_guard_duplicate_node_id 0\n');
    duplicate = true;
    expect(metrics.render()).toContain('failover_guard_duplicate_node_id 1\n');
  });
});
