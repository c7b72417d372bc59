import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { awsName, awsTags } from './aws-support';
import { awsSecretReference } from '../contracts/secret-reference';
import { isUnresolved } from '../contracts/tokens';
import { requireWriteOnlyArguments } from '../synth/terraform-version';

// ThinPrint Connection Service parts of the AWS constructs: the client-keys secret and the
// node-to-node rules of the vendor's multicast cluster.

/** Properties of an {@link AwsThinPrintClientKeys}. */
export interface AwsThinPrintClientKeysProps {
  /** The parsed cluster spec (name, tags). */
  readonly spec: ClusterSpec;
  /**
   * The secret's value, `{"clients":[{"id":"66","key":"666"}]}`, from a sensitive Terraform
   * variable (never a literal in code). Written write-only: it never reaches the Terraform state.
   */
  readonly value: string;
  /**
   * Bump to write a changed value (write-only values are compared by version).
   * @default 1
   */
  readonly valueVersion?: number;
}

/**
 * The client IDs and authentication keys of the ThinPrint Clients, in Secrets Manager. Every
 * node reads it at boot and runs `tpconnect -add id:key` for each client: nothing syncs them
 * between nodes in a VPC.
 */
export class AwsThinPrintClientKeys extends Construct {
  /** The Secrets Manager secret holding the client IDs and keys. */
  public readonly secret: SecretsmanagerSecret;
  /** Its version with the value (write-only). */
  public readonly version: SecretsmanagerSecretVersion;
  /** The Secrets Manager reference the boot script reads. */
  public readonly secretRef: string;

  constructor(scope: Construct, id: string, props: AwsThinPrintClientKeysProps) {
    super(scope, id);
    // passwords and keys go through write-only arguments (`*_wo`): Terraform ≥ 1.11
    requireWriteOnlyArguments(this);
    const { spec } = props;
    this.secret = new SecretsmanagerSecret(this, 'secret', {
      namePrefix: `${awsName(spec.name, 'thinprint-clients', 200)}-`,
      description: `${spec.name}: ThinPrint client IDs and authentication keys, {"clients":[{"id":…,"key":…}]}`,
      tags: awsTags(spec),
    });
    this.version = new SecretsmanagerSecretVersion(this, 'value', { secretId: this.secret.id, secretStringWo: props.value, secretStringWoVersion: props.valueVersion ?? 1 });
    this.secretRef = awsSecretReference(this.secret.arn);
  }

  /** The IAM statement that lets the nodes read exactly this secret. */
  public readStatement(): Record<string, unknown> {
    return { Sid: 'ReadThinPrintClientKeys', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: this.secret.arn };
  }
}

/**
 * ThinPrint's client keys: a reference to a sensitive (ephemeral) Terraform variable, written to
 * a write-only argument, never a literal, so they sit on the cluster; the profile is
 * cloud-neutral literal data and holds the plain settings (`thinprint({ nodeSubnetCidrs })`).
 */
export interface AwsThinPrintProps {
  /**
   * The client IDs and keys, `{"clients":[{"id":"66","key":"666"}]}`, from a sensitive variable; kept in Secrets Manager (write-only).
   * @default - none (no client is added)
   */
  readonly clientKeysValue?: string;
  /**
   * Bump when `clientKeysValue` changes.
   * @default 1
   */
  readonly clientKeysVersion?: number;
}

/** `thinprint` props of an {@link AwsDnsCluster} (dns-multicast): the client keys and the multicast group. */
export interface AwsThinPrintDnsProps extends AwsThinPrintProps {
  /**
   * The multicast group to register the nodes statically in, besides IGMP.
   * @default - none
   */
  readonly multicastGroupAddress?: string;
}

/** `thinprint` props: only with the ThinPrint profile, and client keys never a literal in code. */
export function awsThinPrintPropsProblems(spec: ClusterSpec, props: AwsThinPrintProps | undefined): Problem[] {
  if (props === undefined) return [];
  if (spec.profile.app !== 'thinprint') return [{ path: 'thinprint', message: `only for the ThinPrint profile (this is ${spec.profile.displayName})` }];
  return clientKeysValueProblems('thinprint.clientKeysValue', props.clientKeysValue);
}

/** A key or password in code would end up in git and in every synthesized stack. */
function clientKeysValueProblems(prop: string, value: string | undefined): Problem[] {
  if (value === undefined || isUnresolved(value)) return [];
  return [{ path: prop, message: 'must come from a sensitive Terraform variable or another secret, never a literal in code' }];
}

/** The connection service ports: 4000 console/default, 4001 clients, 4002 servers (engines). */
const CS_PORTS = { from: 4000, to: 4002 } as const;
/** Where IGMP reports and multicast data go. */
const MULTICAST_RANGE = '224.0.0.0/4';
/** The transit gateway sends its IGMP queries from 0.0.0.0. */
const IGMP_QUERIER = '0.0.0.0/32';
const IGMP = '2';

/**
 * Node-to-node rules of the multicast cluster, by subnet CIDR (traffic through a transit
 * gateway keeps the sender's address; security-group references do not match it):
 * TCP 4000–4002 between the nodes' subnets, the cluster's UDP multicast from those subnets
 * (ThinPrint does not document its UDP port, so the whole UDP range, from the nodes' subnets
 * only), IGMP queries from the gateway, and egress for the same.
 */
export function allowThinPrintNodeTraffic(scope: Construct, securityGroupId: string, nodeSubnetCidrs: readonly string[]): void {
  nodeSubnetCidrs.forEach((cidr, i) => {
    const tcp = { securityGroupId, cidrIpv4: cidr, ipProtocol: 'tcp', fromPort: CS_PORTS.from, toPort: CS_PORTS.to, description: 'ThinPrint nodes to each other, TCP 4000-4002' };
    new VpcSecurityGroupIngressRule(scope, `nodes-tcp-in-${i}`, tcp);
    new VpcSecurityGroupEgressRule(scope, `nodes-tcp-out-${i}`, tcp);
    new VpcSecurityGroupIngressRule(scope, `nodes-multicast-in-${i}`, {
      securityGroupId,
      cidrIpv4: cidr,
      ipProtocol: 'udp',
      fromPort: 0,
      toPort: 65535,
      description: 'ThinPrint cluster multicast (UDP) from the nodes',
    });
  });
  new VpcSecurityGroupEgressRule(scope, 'multicast-out', {
    securityGroupId,
    cidrIpv4: MULTICAST_RANGE,
    ipProtocol: 'udp',
    fromPort: 0,
    toPort: 65535,
    description: 'ThinPrint cluster multicast (UDP) to the groups',
  });
  new VpcSecurityGroupIngressRule(scope, 'igmp-queries-in', {
    securityGroupId,
    cidrIpv4: IGMP_QUERIER,
    ipProtocol: IGMP,
    description: 'IGMP queries of the transit gateway multicast domain',
  });
  new VpcSecurityGroupEgressRule(scope, 'igmp-reports-out', {
    securityGroupId,
    cidrIpv4: MULTICAST_RANGE,
    ipProtocol: IGMP,
    description: 'IGMP reports (joins and leaves) to the multicast domain',
  });
}
