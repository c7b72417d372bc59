import { Construct } from 'constructs';
import { MonitorActionGroup } from '@cdktf/provider-azurerm/lib/monitor-action-group';
import { MonitorMetricAlert } from '@cdktf/provider-azurerm/lib/monitor-metric-alert';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';

/** The load balancer's "Health Probe Status": % of successful probes per backend, averaged. */
export const DIP_AVAILABILITY = { metricNamespace: 'Microsoft.Network/loadBalancers', metricName: 'DipAvailability' } as const;

/** Properties of an {@link AzureAlarms}. */
export interface AzureAlarmsProps {
  /** The parsed cluster spec: `notificationEmails`, `nodeCount`, name, tags. */
  readonly spec: ClusterSpec;
  /** Resource group of the action group and alerts. */
  readonly resourceGroupName: string;
  /** The load balancer whose health probe status is watched (e.g. `AzureLoadBalancer.loadBalancer.id`). */
  readonly loadBalancerId: string;
  /**
   * Minutes of evidence before an alert fires (window), 1–60.
   * @default 5
   */
  readonly windowMinutes?: number;
}

/**
 * Alerts e-mailed to `spec.notificationEmails` through one action group, all on the load
 * balancer's health probe status (DipAvailability). Active/passive means exactly one node
 * answers 200 on /health, so across N nodes the healthy share is 100/N %:
 * - `noHealthyInstance` (severity 0): (almost) no probe succeeded in the window — the app is down;
 * - `probeStatus` (severity 2): the share fell below 100/N % — a failover, flapping, or a node
 *   that cannot reach the database;
 * - `moreThanOneHealthy` (severity 0): above 100/N % — two nodes claim to be active, which the
 *   guard's lease and timing invariant must never allow.
 */
export class AzureAlarms extends Construct {
  /** The action group that e-mails `spec.notificationEmails`. */
  public readonly actionGroup: MonitorActionGroup;
  /** Severity 0: no node passes the probe. */
  public readonly noHealthyInstance: MonitorMetricAlert;
  /** Severity 2: the healthy share fell below one node's. */
  public readonly probeStatus: MonitorMetricAlert;
  /** Severity 0: more than one node reports active. */
  public readonly moreThanOneHealthy: MonitorMetricAlert;

  constructor(scope: Construct, id: string, props: AzureAlarmsProps) {
    super(scope, id);
    throwIfProblems(this.node.path, alarmsProblems(props));
    const { spec } = props;
    const tags = clusterTags(spec);
    const window = `PT${props.windowMinutes ?? 5}M`;
    const expected = 100 / spec.nodeCount;

    this.actionGroup = new MonitorActionGroup(this, 'action-group', {
      resourceGroupName: props.resourceGroupName,
      name: `${spec.name}-failover`,
      shortName: spec.name.slice(0, 12),
      emailReceiver: spec.notificationEmails.map((email, i) => ({ name: `email-${i + 1}`, emailAddress: email, useCommonAlertSchema: true })),
      tags,
    });
    const alert = (id: string, description: string, severity: number, aggregation: string, operator: string, threshold: number) =>
      new MonitorMetricAlert(this, id, {
        resourceGroupName: props.resourceGroupName,
        name: `${spec.name}-${id}`,
        description,
        scopes: [props.loadBalancerId],
        severity,
        frequency: 'PT1M',
        windowSize: window,
        criteria: [{ ...DIP_AVAILABILITY, aggregation, operator, threshold }],
        action: [{ actionGroupId: this.actionGroup.id }],
        tags,
      });
    // DipAvailability supports only the Average aggregation; margins absorb probe jitter.
    this.noHealthyInstance = alert('no-healthy-instance', `${spec.name}: no app server passes the /health probe`, 0, 'Average', 'LessThan', round(expected * 0.1));
    this.probeStatus = alert('probe-status', `${spec.name}: health probe status below one healthy node (${round(expected)}%)`, 2, 'Average', 'LessThan', round(expected * 0.9));
    this.moreThanOneHealthy = alert('more-than-one-healthy', `${spec.name}: more than one app server reports active`, 0, 'Average', 'GreaterThan', round(expected * 1.1));
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Every problem of these props (AzureFailoverCluster checks them before it builds anything). */
export function alarmsProblems(props: AzureAlarmsProps): Problem[] {
  const problems: Problem[] = [];
  if (!props.loadBalancerId) problems.push({ path: 'loadBalancerId', message: 'required' });
  const w = props.windowMinutes;
  if (w !== undefined && ![1, 5, 15, 30, 60].includes(w)) problems.push({ path: 'windowMinutes', message: 'must be 1, 5, 15, 30 or 60 (Azure metric alert window sizes)' });
  if (props.spec.profile.failoverMode !== 'guard') {
    problems.push({ path: 'spec.profile.failoverMode', message: 'load balancer alerts are for guard-mode clusters; Traffic Manager monitors DNS-mode endpoints' });
  }
  return problems;
}
