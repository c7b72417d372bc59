import { createHash } from 'crypto';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import type { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { CLUSTER_TAG, clusterTags } from '../spec/tags';
import { isKnown } from '../contracts/tokens';

// Small helpers shared by the AWS constructs (names, tags, security-group rules, validation).

/**
 * `<base>-<suffix>` within AWS's length limit (load balancers and target groups: 32). Too long
 * a base is cut and given a short hash of the full name so two clusters never collide.
 */
export function awsName(base: string, suffix: string, max = 32): string {
  const full = suffix ? `${base}-${suffix}` : base;
  if (full.length <= max) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 6);
  const room = max - hash.length - 1 - (suffix ? suffix.length + 1 : 0);
  const cut = base.slice(0, Math.max(1, room)).replace(/-+$/, '');
  return (suffix ? `${cut}-${hash}-${suffix}` : `${cut}-${hash}`).slice(0, max);
}

/** The spec's tags plus one naming the cluster, so every resource can be found by cluster. */
export function awsTags(spec: ClusterSpec, name?: string): Record<string, string> {
  return { ...clusterTags(spec), ...(name ? { Name: name } : {}) };
}

/** AWS allows 50 tags per resource; awsTags adds `failover-cluster` and `Name`. */
export const AWS_MAX_SPEC_TAGS = 48;

/** Problems with `spec.tags` that AWS would refuse at apply time: too many, or a reserved `aws:` key. */
export function awsTagProblems(spec: ClusterSpec): Problem[] {
  const keys = Object.keys(spec.tags);
  const problems: Problem[] = [];
  if (keys.length > AWS_MAX_SPEC_TAGS) problems.push({ path: 'spec.tags', message: `${keys.length} tags; AWS allows 50 per resource and ${50 - AWS_MAX_SPEC_TAGS} are ours (${CLUSTER_TAG}, Name): at most ${AWS_MAX_SPEC_TAGS}` });
  for (const key of keys) {
    if (/^aws:/i.test(key)) problems.push({ path: `spec.tags.${key}`, message: 'keys starting with "aws:" are reserved for AWS' });
    if (key === 'Name' || key === CLUSTER_TAG) problems.push({ path: `spec.tags.${key}`, message: 'is set by the constructs (a per-resource name / the cluster name)' });
  }
  return problems;
}

/** Problem when fewer than two subnets are given (Multi-AZ needs two availability zones), one is listed twice, or a literal id is not a subnet id. */
export function subnetProblems(prop: string, subnetIds: readonly string[] | undefined): Problem[] {
  if (!subnetIds || subnetIds.length < 2) {
    return [{ path: prop, message: 'needs two or more subnets in different availability zones' }];
  }
  const problems = subnetIds.flatMap((id, i) => awsIdProblems(`${prop}[${i}]`, id, 'subnet'));
  return new Set(subnetIds).size === subnetIds.length ? problems : [...problems, { path: prop, message: 'lists a subnet twice' }];
}

/**
 * A literal AWS resource id of the given kind: `vpc-`/`subnet-` and 8 or 17 lower-case hex
 * digits. Tokens (Terraform variables, other resources' ids) are known only at plan time and pass.
 */
export function awsIdProblems(prop: string, id: string | undefined, kind: 'vpc' | 'subnet'): Problem[] {
  const example = kind === 'vpc' ? 'vpc-0123456789abcdef0' : 'subnet-0123456789abcdef0';
  if (id === undefined || id === '') return [{ path: prop, message: `required: an existing ${kind === 'vpc' ? 'VPC' : 'subnet'} id such as "${example}"` }];
  if (!isKnown(id) || new RegExp(`^${kind}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(id)) return [];
  return [{ path: prop, message: `"${id}" is not a ${kind === 'vpc' ? 'VPC' : 'subnet'} id (${kind}- and 8 or 17 hex digits, e.g. "${example}")` }];
}

/**
 * Allows TCP `port` from one security group to another: an egress rule on the source and an
 * ingress rule on the target, so neither group needs an allow-all rule.
 */
export function allowTcp(
  scope: Construct,
  id: string,
  rule: { readonly from: string; readonly to: string; readonly port: number; readonly description: string },
): void {
  new VpcSecurityGroupEgressRule(scope, `${id}-egress`, {
    securityGroupId: rule.from,
    referencedSecurityGroupId: rule.to,
    ipProtocol: 'tcp',
    fromPort: rule.port,
    toPort: rule.port,
    description: rule.description,
  });
  new VpcSecurityGroupIngressRule(scope, `${id}-ingress`, {
    securityGroupId: rule.to,
    referencedSecurityGroupId: rule.from,
    ipProtocol: 'tcp',
    fromPort: rule.port,
    toPort: rule.port,
    description: rule.description,
  });
}

/** The given CIDR, or the VPC's primary CIDR looked up from its id. */
export function vpcCidrOf(scope: Construct, vpcId: string, given: string | undefined): string {
  return given ?? new DataAwsVpc(scope, 'vpc', { id: vpcId }).cidrBlock;
}

/** An IAM policy document (tokens inside resolve to Terraform references). */
export function policyDocument(statements: ReadonlyArray<Record<string, unknown>>): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

