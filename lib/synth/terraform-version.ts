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
 * The construct context key CDK Terrain (cdktn) reads the project's Terraform and OpenTofu
 * targets from (cdktf.json `targetVersions`); it checks every write-only argument against them
 * and, when none are declared, assumes Terraform ≥ 1.5.7, so synth fails. cdktf ignores it.
 */
const TARGET_VERSIONS_CONTEXT = 'targetVersions';

/**
 * Sets `terraform.required_version` to `>= 1.11.0` on the stack holding `scope` (once per
 * stack), so an older CLI fails at `init` naming the version instead of late in the plan; and,
 * unless the project declares its own, the same target as construct context on `scope` (called
 * before `scope` has children), so CDK Terrain's validation of write-only arguments passes. A
 * project that declares `targetVersions` below 1.11 keeps them, and cdktn names the conflict.
 */
export function requireWriteOnlyArguments(scope: Construct): void {
  if (scope.node.tryGetContext(TARGET_VERSIONS_CONTEXT) === undefined) {
    scope.node.setContext(TARGET_VERSIONS_CONTEXT, { terraform: `>=${MIN_TERRAFORM_VERSION}`, opentofu: `>=${MIN_TERRAFORM_VERSION}` });
  }
  const stack = TerraformStack.of(scope);
  if (stack.node.tryFindChild(MARKER_ID)) return;
  new Construct(stack, MARKER_ID);
  stack.addOverride('terraform.required_version', `>= ${MIN_TERRAFORM_VERSION}`);
}
