import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';

/**
 * The oldest Terraform (and OpenTofu) that knows write-only arguments (`*_wo`), through which
 * the constructs pass every password and key: an older CLI stops at `terraform plan` with
 * "Unsupported argument".
 */
export const MIN_TERRAFORM_VERSION = '1.11.0';

const MARKER_ID = 'failover-constructs-terraform-version';

/**
 * Sets `terraform.required_version` to `>= 1.11.0` on the stack holding `scope` (once per
 * stack), so an older CLI fails at `init` naming the version instead of late in the plan.
 */
export function requireWriteOnlyArguments(scope: Construct): void {
  const stack = TerraformStack.of(scope);
  if (stack.node.tryFindChild(MARKER_ID)) return;
  new Construct(stack, MARKER_ID);
  stack.addOverride('terraform.required_version', `>= ${MIN_TERRAFORM_VERSION}`);
}
