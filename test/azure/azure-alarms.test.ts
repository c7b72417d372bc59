import { AzureAlarms, type AzureAlarmsProps } from '../../lib/azure/azure-alarms';
import { parseClusterSpec, thinprint } from '../../lib/spec';
import { onlyResource, paperCutSpec, resourcesOf, synth, propError } from './helpers';

const LB_ID = '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/pc-lb';
const base = (over: Partial<AzureAlarmsProps> = {}): AzureAlarmsProps => ({
  spec: paperCutSpec({ notificationEmails: ['ops@example.com', 'oncall@example.com'] }),
  resourceGroupName: 'rg',
  loadBalancerId: LB_ID,
  ...over,
});

describe('AzureAlarms', () => {
  it('e-mails every spec address through one action group', () => {
    // given / when
    const { json } = synth((s) => new AzureAlarms(s, 'alerts', base()));

    // then
    const group = onlyResource(json, 'azurerm_monitor_action_group');
    expect(group.short_name).toBe('pc');
    expect(group.email_receiver.map((r: any) => r.email_address)).toEqual(['ops@example.com', 'oncall@example.com']);
  });

  it('alerts on DipAvailability of the load balancer: none healthy, below one healthy, more than one healthy', () => {
    // given / when
    const { json } = synth((s) => new AzureAlarms(s, 'alerts', base({ spec: paperCutSpec({ nodeCount: 4 }) })));

    // then
    const alerts = resourcesOf(json, 'azurerm_monitor_metric_alert');
    const byName = Object.fromEntries(alerts.map((a) => [a.name, a]));
    for (const a of alerts) {
      expect(a.scopes).toEqual([LB_ID]);
      expect(a.criteria[0]).toMatchObject({ metric_namespace: 'Microsoft.Network/loadBalancers', metric_name: 'DipAvailability' });
      expect(a.action[0].action_group_id).toContain('azurerm_monitor_action_group');
      expect(a.window_size).toBe('PT5M');
    }
    expect(byName['pc-no-healthy-instance'].criteria[0]).toMatchObject({ aggregation: 'Average', operator: 'LessThan', threshold: 2.5 });
    expect(byName['pc-probe-status'].criteria[0]).toMatchObject({ aggregation: 'Average', operator: 'LessThan', threshold: 22.5 });
    expect(byName['pc-more-than-one-healthy'].criteria[0]).toMatchObject({ aggregation: 'Average', operator: 'GreaterThan', threshold: 27.5 });
  });

  describe('rejects', () => {
    const cases: Array<[string, Partial<AzureAlarmsProps>, string]> = [
      ['no load balancer', { loadBalancerId: '' }, 'loadBalancerId'],
      ['a window Azure does not offer', { windowMinutes: 7 }, 'windowMinutes'],
      ['a DNS-mode profile', { spec: parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }) }, 'spec.profile.failoverMode'],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      expect(() => synth((s) => new AzureAlarms(s, 'alerts', base(over)))).toThrow(propError('AzureAlarms', prop));
    });
  });
});
