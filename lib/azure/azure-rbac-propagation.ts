import { TerraformProvider, TerraformResource, TerraformStack, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';

/**
 * How long a plan waits after creating role assignments before it uses them. Azure RBAC is
 * eventually consistent: a new assignment can take minutes to reach the data plane, and a Key
 * Vault secret write or blob upload in the same apply fails with 403 until it does
 * (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting, "Role
 * assignment changes are not being detected"; hashicorp/terraform-provider-azurerm#23927).
 */
export const RBAC_PROPAGATION_SECONDS = 120;

/** The `hashicorp/time` provider, declared once per stack (no generated binding needed: it has no settings). */
class TimeProvider extends TerraformProvider {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      terraformResourceType: 'time',
      terraformGeneratorMetadata: { providerName: 'time', providerVersionConstraint: '~> 0.12' },
      terraformProviderSource: 'hashicorp/time',
    });
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return {};
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return {};
  }
}

/** The stack's `time` provider: one the user declared, or ours. */
function timeProvider(scope: Construct): TerraformProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.findAll().find((c): c is TerraformProvider => TerraformProvider.isTerraformProvider(c) && c.terraformResourceType === 'time');
  return existing ?? new TimeProvider(stack, 'time-provider');
}

/** A `time_sleep` of the `hashicorp/time` provider. */
class TimeSleep extends TerraformResource {
  constructor(scope: Construct, id: string, private readonly settings: { createDuration: string; triggers: Record<string, string>; dependsOn: ITerraformDependable[] }) {
    super(scope, id, {
      terraformResourceType: 'time_sleep',
      terraformGeneratorMetadata: { providerName: 'time', providerVersionConstraint: '~> 0.12' },
      provider: timeProvider(scope),
      dependsOn: settings.dependsOn,
    });
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { create_duration: this.settings.createDuration, triggers: this.settings.triggers };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return {
      create_duration: { value: this.settings.createDuration, isBlock: false, type: 'simple', storageClassType: 'string' },
      triggers: { value: this.settings.triggers, isBlock: false, type: 'map', storageClassType: 'stringMap' },
    };
  }
}

/** Properties of an {@link AzureRoleAssignmentWait}. */
export interface AzureRoleAssignmentWaitProps {
  /** The role assignments to wait for; their ids are the sleep's triggers (a recreated assignment waits again). */
  readonly assignments: readonly RoleAssignment[];
  /**
   * Seconds to wait after the last of them is created.
   * @default RBAC_PROPAGATION_SECONDS (120)
   */
  readonly seconds?: number;
}

/**
 * A wait inside the plan after role assignments: whatever uses the grants depends on this
 * construct instead of the assignments, so a single apply succeeds.
 */
export class AzureRoleAssignmentWait extends Construct implements ITerraformDependable {
  /** The `time_sleep` resource. */
  public readonly sleep: TerraformResource;

  constructor(scope: Construct, id: string, props: AzureRoleAssignmentWaitProps) {
    super(scope, id);
    const seconds = props.seconds ?? RBAC_PROPAGATION_SECONDS;
    this.sleep = new TimeSleep(this, 'sleep', {
      createDuration: `${seconds}s`,
      triggers: Object.fromEntries(props.assignments.map((a, i) => [`assignment_${i}`, a.id])),
      dependsOn: [...props.assignments],
    });
  }

  /** The sleep's address, so `dependsOn: [wait]` waits for it. */
  public get fqn(): string {
    return this.sleep.fqn;
  }
}
