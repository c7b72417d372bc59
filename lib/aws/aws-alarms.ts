import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { AwsLoadBalancer } from './aws-load-balancer';
import { throwIfProblems } from '../problems/problems';
import { awsName, awsTags } from './aws-support';

/** Properties of an {@link AwsAlarms}. */
export interface AwsAlarmsProps {
  /** The parsed cluster spec (`notificationEmails`, `nodeCount`). */
  readonly spec: ClusterSpec;
  /** Whose target health is watched. */
  readonly loadBalancer: AwsLoadBalancer;
  /**
   * Consecutive one-minute periods a condition must hold before the alarm fires.
   * @default 2
   */
  readonly evaluationMinutes?: number;
}

/**
 * Alarms on the load balancer's view of the guard, sent to an SNS topic with the spec's e-mail
 * subscriptions. Every target group shares the guard's health check, so the first one stands
 * for all. In a healthy cluster exactly one target is healthy and N − 1 are unhealthy (passive
 * nodes answer 503 by design), so the alarms are:
 * - "no healthy target": HealthyHostCount < 1 — nobody serves (outage, or a failover taking
 *   longer than `evaluationMinutes`);
 * - "unhealthy targets": UnHealthyHostCount ≥ N — every registered node is unhealthy (also
 *   fires when the healthy count has no data);
 * - "more than one active": HealthyHostCount > 1 — the guard's at-most-one promise is broken.
 */
export class AwsAlarms extends Construct {
  /** The SNS topic every alarm notifies. */
  public readonly topic: SnsTopic;
  /** One e-mail subscription per `spec.notificationEmails` entry. */
  public readonly subscriptions: readonly SnsTopicSubscription[];
  /** No target is healthy: nobody serves. */
  public readonly noHealthyTarget: CloudwatchMetricAlarm;
  /** Every target is unhealthy. */
  public readonly unhealthyTargets: CloudwatchMetricAlarm;
  /** More than one target is healthy: two nodes claim to be active. */
  public readonly moreThanOneActive: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: AwsAlarmsProps) {
    super(scope, id);
    const { spec, loadBalancer } = props;
    throwIfProblems(this.node.path, alarmsProblems(props));
    const minutes = props.evaluationMinutes ?? 2;
    const tags = awsTags(spec);
    // No SSE with the AWS-managed SNS key: CloudWatch cannot publish to a topic encrypted with it.
    this.topic = new SnsTopic(this, 'topic', { name: awsName(spec.name, 'alarms', 256), tags });
    this.subscriptions = spec.notificationEmails.map(
      (email, i) => new SnsTopicSubscription(this, `email-${i}`, { topicArn: this.topic.arn, protocol: 'email', endpoint: email }),
    );
    const first = Object.values(loadBalancer.targetGroups)[0];
    const common = {
      namespace: 'AWS/NetworkELB',
      dimensions: { LoadBalancer: loadBalancer.loadBalancer.arnSuffix, TargetGroup: first.arnSuffix },
      period: 60,
      evaluationPeriods: minutes,
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
      tags,
    };
    this.noHealthyTarget = new CloudwatchMetricAlarm(this, 'no-healthy-target', {
      ...common,
      alarmName: `${spec.name}: no healthy target`,
      alarmDescription: `No node of ${spec.name} passes the guard's /health: nobody serves clients.`,
      metricName: 'HealthyHostCount',
      statistic: 'Maximum',
      comparisonOperator: 'LessThanThreshold',
      threshold: 1,
      treatMissingData: 'breaching',
    });
    this.unhealthyTargets = new CloudwatchMetricAlarm(this, 'unhealthy-targets', {
      ...common,
      alarmName: `${spec.name}: unhealthy targets`,
      alarmDescription: `All ${spec.nodeCount} nodes of ${spec.name} are unhealthy (N − 1 unhealthy is normal: passive nodes answer 503).`,
      metricName: 'UnHealthyHostCount',
      statistic: 'Minimum',
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: spec.nodeCount,
      treatMissingData: 'notBreaching',
    });
    this.moreThanOneActive = new CloudwatchMetricAlarm(this, 'more-than-one-active', {
      ...common,
      alarmName: `${spec.name}: more than one active node`,
      alarmDescription: `More than one node of ${spec.name} reports active on /health.`,
      metricName: 'HealthyHostCount',
      statistic: 'Minimum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 1,
      treatMissingData: 'notBreaching',
    });
  }
}

/** Every problem of these props but the load balancer itself (AwsFailoverCluster checks them before it builds one). */
export function alarmsProblems(props: Omit<AwsAlarmsProps, 'loadBalancer'>): Problem[] {
  const problems: Problem[] = [];
  const minutes = props.evaluationMinutes;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > 60)) {
    problems.push({ path: 'evaluationMinutes', message: 'must be a whole number of minutes, 1–60' });
  }
  if (props.spec.profile.failoverMode !== 'guard') {
    problems.push({ path: 'spec.profile.failoverMode', message: "load balancer alarms are for guard profiles; Route 53 health checks watch a \"dns\" profile's nodes" });
  }
  return problems;
}
