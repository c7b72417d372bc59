import { AwsAlarms } from '../../lib/aws/aws-alarms';
import { AwsLoadBalancer } from '../../lib/aws/aws-load-balancer';
import type { ClusterSpec } from '../../lib/spec';
import type { Construct } from 'constructs';
import { all, errorOf, NET, one, papercutSpec, synth } from './aws-test-support';

function build(s: Construct, spec: ClusterSpec, evaluationMinutes?: number): AwsAlarms {
  const loadBalancer = new AwsLoadBalancer(s, 'lb', { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr });
  return new AwsAlarms(s, 'alarms', { spec, loadBalancer, evaluationMinutes });
}

const byName = (json: Record<string, any>, fragment: string) => all(json, 'aws_cloudwatch_metric_alarm').find((a) => a.alarm_name.includes(fragment))!;

describe('AwsAlarms', () => {
  it('an SNS topic (not encrypted with aws/sns, which CloudWatch cannot use) with an e-mail subscription per address', () => {
    const json = synth((s) => build(s, papercutSpec({ notificationEmails: ['ops@example.com', 'print@example.com'] })));
    expect(one(json, 'aws_sns_topic').kms_master_key_id).toBeUndefined();
    expect(all(json, 'aws_sns_topic_subscription').map((x) => [x.protocol, x.endpoint])).toEqual([
      ['email', 'ops@example.com'],
      ['email', 'print@example.com'],
    ]);
  });

  it('no subscriptions without e-mails', () => {
    expect(all(synth((s) => build(s, papercutSpec())), 'aws_sns_topic_subscription')).toEqual([]);
  });

  it('"no healthy target": HealthyHostCount < 1; "unhealthy targets": UnHealthyHostCount ≥ N (N − 1 is normal)', () => {
    // given / when
    const json = synth((s) => build(s, papercutSpec({ nodeCount: 3 })));
    // then
    const none = byName(json, 'no healthy target');
    expect(none).toMatchObject({ namespace: 'AWS/NetworkELB', metric_name: 'HealthyHostCount', comparison_operator: 'LessThanThreshold', threshold: 1, period: 60, evaluation_periods: 2, treat_missing_data: 'breaching' });
    expect(none.dimensions.LoadBalancer).toContain('arn_suffix');
    expect(none.dimensions.TargetGroup).toContain('arn_suffix');
    expect(none.alarm_actions[0]).toContain('aws_sns_topic');
    expect(byName(json, 'unhealthy targets')).toMatchObject({ metric_name: 'UnHealthyHostCount', comparison_operator: 'GreaterThanOrEqualToThreshold', threshold: 3 });
    expect(byName(json, 'more than one active')).toMatchObject({ metric_name: 'HealthyHostCount', comparison_operator: 'GreaterThanThreshold', threshold: 1 });
  });

  it('evaluationMinutes', () => {
    const json = synth((s) => build(s, papercutSpec(), 5));
    for (const a of all(json, 'aws_cloudwatch_metric_alarm')) expect(a.evaluation_periods).toBe(5);
  });

  it('validation: evaluationMinutes', () => {
    expect(errorOf((s) => build(s, papercutSpec(), 0))).toContain('evaluationMinutes:');
  });
});
