import type { GuardBinaryFetch, NodePlatform, ReplacementWatch } from '../boot/platform';
import { mismatch } from '../boot/plan';
import { psQuote, sh, shQuote } from '../boot/quote';
import type { Problem } from '../problems/problems';

/**
 * An EC2 node: the instance id through IMDSv2; health probes scoped by the security group unless
 * the construct names the NLB's subnets.
 */
export const AWS_NODE_PLATFORM: NodePlatform = {
  name: 'AWS',
  defaultHealthProbeSources: ['Any'],
  windowsInstanceId: `$imdsToken = Invoke-WithRetry 'instance metadata token' { Invoke-RestMethod -UseBasicParsing -Method Put -Uri 'http://169.254.169.254/latest/api/token' -Headers @{ 'X-aws-ec2-metadata-token-ttl-seconds' = '300' } }
  $instance = Invoke-WithRetry 'instance id' { Invoke-RestMethod -UseBasicParsing -Uri 'http://169.254.169.254/latest/meta-data/instance-id' -Headers @{ 'X-aws-ec2-metadata-token' = $imdsToken } }`,
};

/** The guard binary as an S3 object the node reads with its instance role. */
export interface AwsGuardObject {
  /** The bucket's name. */
  readonly bucket: string;
  /** The object's key. */
  readonly key: string;
  /** The bucket's region. */
  readonly region: string;
  /** SHA-256 of the binary (64 hex digits). */
  readonly sha256: string;
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Downloaded with the instance role (the CLI / AWS Tools read its credentials through IMDSv2). */
export function awsGuardBinary(object: AwsGuardObject): GuardBinaryFetch {
  return {
    sha256: object.sha256,
    usesImdsToken: false,
    problems(): Problem[] {
      const problems: Problem[] = [];
      if (mismatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, object.bucket)) problems.push({ path: 'guardBinary.bucket', message: 'must be an S3 bucket name' });
      if (!object.key || /[\r\n]/.test(object.key)) problems.push({ path: 'guardBinary.key', message: 'must be a non-empty single-line object key' });
      if (mismatch(AWS_REGION, object.region)) problems.push({ path: 'guardBinary.region', message: 'must be an AWS region such as "eu-west-1"' });
      return problems;
    },
    linux: () => ({
      values: `GUARD_S3_URI=${shQuote(`s3://${object.bucket}/${object.key}`)}
GUARD_S3_REGION=${shQuote(object.region)}
`,
      download: sh`  command -v aws >/dev/null 2>&1 || fail "the aws CLI is needed to download $GUARD_S3_URI (Amazon Linux 2023 has it); install it first"
  # the CLI signs with the instance role, whose credentials it reads through IMDSv2
  retry aws s3 cp --only-show-errors --region "$GUARD_S3_REGION" "$GUARD_S3_URI" "$download"`,
    }),
    windows: () => `# AWS Tools for PowerShell sign with the instance role (credentials through IMDSv2)
Invoke-WithRetry 'guard download' { Read-S3Object -BucketName ${psQuote(object.bucket)} -Key ${psQuote(object.key)} -Region ${psQuote(object.region)} -File $download | Out-Null }`,
  };
}

/** The auto scaling group's termination lifecycle hook that holds a node for its handover. */
export interface AwsLifecycleHook {
  /** The nodes' auto scaling group. */
  readonly autoScalingGroupName: string;
  /** The termination lifecycle hook's name. */
  readonly hookName: string;
  /** The group's region. */
  readonly region: string;
}

/**
 * The termination lifecycle hook holds the instance in Terminating:Wait, which IMDSv2 shows as
 * target lifecycle state `Terminated`; the node completes the hook once it has handed over.
 */
export function awsLifecycleHookWatch(hook: AwsLifecycleHook): ReplacementWatch {
  return {
    linux: () =>
      `ASG_NAME=${shQuote(hook.autoScalingGroupName)}
HOOK_NAME=${shQuote(hook.hookName)}
REGION=${shQuote(hook.region)}
` +
      sh`IMDS=http://169.254.169.254/latest
imds() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/api/token") || return 1
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/$1"
}
wait_for_notice() {
  until [ "$(imds autoscaling/target-lifecycle-state 2>/dev/null || true)" = Terminated ]; do sleep 5; done
}
let_it_go() {
  local instance_id
  instance_id=$(imds instance-id)
  until aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$ASG_NAME" \
    --lifecycle-hook-name "$HOOK_NAME" --instance-id "$instance_id" --lifecycle-action-result CONTINUE; do
    sleep 10
  done
}
`,
    windows: () => `$AsgName = ${psQuote(hook.autoScalingGroupName)}
$HookName = ${psQuote(hook.hookName)}
$Region = ${psQuote(hook.region)}
function Get-Imds([string]$Path) {
  $token = Invoke-RestMethod -UseBasicParsing -Method Put -Uri 'http://169.254.169.254/latest/api/token' -Headers @{ 'X-aws-ec2-metadata-token-ttl-seconds' = '300' }
  Invoke-RestMethod -UseBasicParsing -Uri ('http://169.254.169.254/latest/meta-data/' + $Path) -Headers @{ 'X-aws-ec2-metadata-token' = $token }
}
# the termination lifecycle hook holds the instance in Terminating:Wait, shown as target state Terminated
function Wait-ForNotice {
  for (;;) {
    try { if ((Get-Imds 'autoscaling/target-lifecycle-state') -eq 'Terminated') { return 'Terminate' } } catch { }
    Start-Sleep -Seconds 5
  }
}
function Complete-Notice {
  for (;;) {
    try {
      $instance = Get-Imds 'instance-id'
      Complete-ASLifecycleAction -Region $Region -AutoScalingGroupName $AsgName -LifecycleHookName $HookName -InstanceId $instance -LifecycleActionResult 'CONTINUE'
      return
    } catch {
      Write-Log ('completing the lifecycle action failed, again in 10 s: {0}' -f $_.Exception.Message)
      Start-Sleep -Seconds 10
    }
  }
}
`,
  };
}
