import { TerraformProvider } from 'cdktf';
import type { Construct } from 'constructs';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { AzureRoleAssignmentWait, RBAC_PROPAGATION_SECONDS } from '../../lib/azure/azure-rbac-propagation';
import { onlyResource, synth } from './helpers';

/** A `time` provider of the user's own, as @cdktf/provider-time would declare it. */
class UsersTimeProvider extends TerraformProvider {
  private providerAlias?: string;
  constructor(scope: Construct) {
    super(scope, 'my-time', { terraformResourceType: 'time', terraformGeneratorMetadata: { providerName: 'time' }, terraformProviderSource: 'hashicorp/time' });
    this.alias = 'mine';
  }
  public get alias(): string | undefined {
    return this.providerAlias;
  }
  public set alias(value: string | undefined) {
    this.providerAlias = value;
  }
  protected synthesizeAttributes(): Record<string, unknown> {
    return { alias: this.providerAlias };
  }
}

const grant = (s: Construct, id: string) => new RoleAssignment(s, id, { scope: '/subscriptions/0000', roleDefinitionName: 'Reader', principalId: '00000000-0000-4000-8000-000000000001' });

describe('AzureRoleAssignmentWait', () => {
  it('is a time_sleep after the assignments, re-run when one is recreated (their ids are its triggers)', () => {
    const { json } = synth((s) => new AzureRoleAssignmentWait(s, 'wait', { assignments: [grant(s, 'a'), grant(s, 'b')] }));
    const sleep = onlyResource(json, 'time_sleep');
    expect(sleep).toMatchObject({ create_duration: `${RBAC_PROPAGATION_SECONDS}s`, triggers: { assignment_0: '${azurerm_role_assignment.a.id}', assignment_1: '${azurerm_role_assignment.b.id}' } });
    expect(sleep.depends_on).toEqual(['azurerm_role_assignment.a', 'azurerm_role_assignment.b']);
    expect(json.terraform.required_providers.time).toEqual({ source: 'hashicorp/time', version: '~> 0.12' });
  });

  it('declares one time provider per stack, or uses the one the user declared first', () => {
    const two = synth((s) => {
      new AzureRoleAssignmentWait(s, 'w1', { assignments: [grant(s, 'a')] });
      new AzureRoleAssignmentWait(s, 'w2', { assignments: [grant(s, 'b')], seconds: 30 });
    }).json;
    expect(two.provider.time).toHaveLength(1);
    const users = synth((s) => {
      new UsersTimeProvider(s);
      new AzureRoleAssignmentWait(s, 'w', { assignments: [grant(s, 'a')] });
    }).json;
    expect(users.provider.time).toHaveLength(1);
    expect(onlyResource(users, 'time_sleep').provider).toBe('time.mine');
  });
});
