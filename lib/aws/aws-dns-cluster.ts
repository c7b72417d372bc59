import { DataAwsEc2ManagedPrefixList } from '@cdktf/provider-aws/lib/data-aws-ec2-managed-prefix-list';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { Route53HealthCheck } from '@cdktf/provider-aws/lib/route53-health-check';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import { userDataSizeProblems } from '../synth/user-data';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { AppPort } from '../spec/profile';
import { AwsNodeTemplate, EC2_USER_DATA_MAX_BYTES, nodeOptionProblems, type AwsNodeOptions } from './aws-node-template';
import { throwIfProblems } from '../problems/problems';
import { isKnown } from '../contracts/tokens';
import { awsTagProblems, awsTags, subnetProblems, vpcCidrOf } from './aws-support';
import { AwsMulticastDomain, multicastGroupProblems } from './aws-multicast-domain';
import { AwsThinPrintClientKeys, allowThinPrintNodeTraffic, awsThinPrintPropsProblems, type AwsThinPrintDnsProps } from './aws-thinprint';
import { withInstallCommands } from './aws-app-servers';
import { renderWindowsBootScript } from '../boot/windows';
import { AWS_NODE_PLATFORM } from './aws-node-platform';
import { thinprintSettingsProblems } from '../boot/thinprint-windows';

/** Properties of an {@link AwsDnsCluster}. */
export interface AwsDnsClusterProps extends AwsNodeOptions {
  /** The parsed cluster spec of a `dns` profile (ThinPrint Connection Service). */
  readonly spec: ClusterSpec;
  /** VPC of the nodes. */
  readonly vpcId: string;
  /**
   * Subnets (two or more) the nodes are spread over. Route 53 health checkers probe from the
   * internet, so each node gets a public IP, reachable only by the health checkers (the
   * Route 53 managed prefix list) on the health-check port: these subnets need a route to an
   * internet gateway.
   */
  readonly subnetIds: readonly string[];
  /** Hosted zone of the cluster name (a private zone for an internal service). */
  readonly hostedZoneId: string;
  /** The cluster's DNS name, e.g. `tpcs.corp.example.com`. */
  readonly recordName: string;
  /**
   * The VPC's CIDR, the default client range.
   * @default - looked up from `vpcId`
   */
  readonly vpcCidr?: string;
  /**
   * Which profile port Route 53 checks with TCP connects.
   * @default 'clients' if the profile has it, else the first port
   */
  readonly healthCheckPortName?: string;
  /**
   * Address the records answer with.
   * @default 'private'
   */
  readonly recordAddress?: 'private' | 'public';
  /**
   * Plain-text user data for the nodes of a non-ThinPrint profile; ThinPrint nodes get the rendered node configuration (add `installCommands`).
   * @default - none
   */
  readonly userData?: string;
  /**
   * Commands run at first boot before the rendered node configuration (ThinPrint nodes: PowerShell, e.g. to install the Connection Service).
   * @default - none
   */
  readonly installCommands?: readonly string[];
  /**
   * The guide's DMZ alias: an external name (CNAME to `recordName`) in another zone.
   * @default - none
   */
  readonly dmzAlias?: { readonly hostedZoneId: string; readonly name: string };
  /**
   * ThinPrint's client keys (a Terraform-side secret) and the multicast group; the node subnets'
   * CIDRs come from the profile (`thinprint({ nodeSubnetCidrs })`).
   * @default - none
   */
  readonly thinprint?: AwsThinPrintDnsProps;
}

/**
 * Active/active cluster behind one DNS name (ThinPrint Connection Service style, no guard):
 * N nodes, a Route 53 TCP health check per node on the client port, and a multivalue answer
 * A record per node with TTL 30 s, so a failed node leaves the answer within about
 * failure-threshold × interval + 30 s.
 */
export class AwsDnsCluster extends Construct {
  /** The nodes' launch template, role and security group. */
  public readonly template: AwsNodeTemplate;
  /** The N nodes, one per subnet in turn. */
  public readonly nodes: readonly Instance[];
  /** One Elastic IP per node: the Route 53 health check's target, stable across stop/start. */
  public readonly publicIps: readonly Eip[];
  /** One Route 53 TCP health check per node. */
  public readonly healthChecks: readonly Route53HealthCheck[];
  /** One multivalue answer A record per node, tied to its health check. */
  public readonly records: readonly Route53Record[];
  /** Route 53 request interval used (10 or 30 s, the only values it offers). */
  public readonly requestIntervalSecs: 10 | 30;
  /** ThinPrint: the client IDs and keys every node applies. */
  public readonly clientKeys?: AwsThinPrintClientKeys;
  /** ThinPrint dns-multicast: the Transit Gateway multicast domain of the nodes' subnets. */
  public readonly multicast?: AwsMulticastDomain;
  /** The DMZ alias record, when asked for. */
  public readonly dmzAliasRecord?: Route53Record;

  constructor(scope: Construct, id: string, props: AwsDnsClusterProps) {
    super(scope, id);
    const { spec } = props;
    const checkPort = healthCheckPort(spec.ports, props.healthCheckPortName);
    throwIfProblems(this.node.path, dnsClusterPortProblems(props, checkPort));
    const port = checkPort!.port;
    this.requestIntervalSecs = spec.healthCheck.intervalSecs <= 10 ? 10 : 30;

    const thinprint = spec.profile.app === 'thinprint';
    const keys = props.thinprint?.clientKeysValue;
    if (thinprint && keys !== undefined) {
      this.clientKeys = new AwsThinPrintClientKeys(this, 'client-keys', { spec, value: keys, valueVersion: props.thinprint?.clientKeysVersion });
    }
    const userData = thinprint
      ? withInstallCommands('windows', renderWindowsBootScript(spec, { mode: 'dns', platform: AWS_NODE_PLATFORM, thinprint: { clientKeysSecretRef: this.clientKeys?.secretRef, nodeSubnetCidrs: spec.profile.nodeSubnetCidrs } }, { wrap: false }), props.installCommands ?? [])
      : props.userData;
    if (userData !== undefined) {
      throwIfProblems(this.node.path, userDataSizeProblems(thinprint ? 'installCommands' : 'userData', userData, { maxBytes: EC2_USER_DATA_MAX_BYTES, what: 'EC2 user data' }));
    }
    this.template = new AwsNodeTemplate(this, 'nodes', { ...props, userData, policyStatements: this.clientKeys ? [this.clientKeys.readStatement()] : undefined });
    const sg = this.template.securityGroup.id;
    if (thinprint) {
      allowThinPrintNodeTraffic(this, sg, spec.profile.nodeSubnetCidrs ?? []);
      this.multicast = new AwsMulticastDomain(this, 'multicast', { spec, vpcId: props.vpcId, subnetIds: props.subnetIds, groupAddress: props.thinprint?.multicastGroupAddress });
    }
    const clientCidrs = spec.loadBalancer.allowedCidrs ?? [vpcCidrOf(this, props.vpcId, props.vpcCidr)];
    clientCidrs.forEach((cidr, i) => {
      for (const p of spec.ports) {
        new VpcSecurityGroupIngressRule(this, `clients-${i}-${p.port}`, {
          securityGroupId: sg,
          cidrIpv4: cidr,
          ipProtocol: 'tcp',
          fromPort: p.port,
          toPort: p.port,
          description: `clients to port ${p.port} (${p.name})`,
        });
      }
    });
    const region = new DataAwsRegion(this, 'region').region;
    const checkers = new DataAwsEc2ManagedPrefixList(this, 'route53-checkers', { name: `com.amazonaws.${region}.route53-healthchecks` });
    new VpcSecurityGroupIngressRule(this, 'route53-health-checks', {
      securityGroupId: sg,
      prefixListId: checkers.id,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description: `Route 53 health checkers to port ${port}`,
    });

    const nodes: Instance[] = [];
    const ips: Eip[] = [];
    const checks: Route53HealthCheck[] = [];
    const records: Route53Record[] = [];
    for (let i = 0; i < spec.nodeCount; i++) {
      const name = `${spec.name}-node-${i + 1}`;
      const node = new Instance(this, `node-${i + 1}`, {
        launchTemplate: { id: this.template.launchTemplate.id, version: Token.asString(this.template.launchTemplate.latestVersion) },
        subnetId: props.subnetIds[i % props.subnetIds.length],
        // No associate_public_ip_address: EC2 rejects it next to the launch template's security
        // groups (InvalidParameterCombination); an Elastic IP also survives stop/start.
        tags: awsTags(spec, name),
      });
      const ip = new Eip(this, `ip-${i + 1}`, { domain: 'vpc', instance: node.id, tags: awsTags(spec, name) });
      ips.push(ip);
      const check = new Route53HealthCheck(this, `check-${i + 1}`, {
        type: 'TCP',
        ipAddress: ip.publicIp,
        port,
        requestInterval: this.requestIntervalSecs,
        failureThreshold: spec.healthCheck.unhealthyThreshold,
        tags: awsTags(spec, name),
      });
      records.push(
        new Route53Record(this, `record-${i + 1}`, {
          zoneId: props.hostedZoneId,
          name: props.recordName,
          type: 'A',
          ttl: 30,
          records: [props.recordAddress === 'public' ? ip.publicIp : node.privateIp],
          setIdentifier: name,
          multivalueAnswerRoutingPolicy: true,
          healthCheckId: check.id,
        }),
      );
      nodes.push(node);
      checks.push(check);
    }
    if (this.multicast && props.thinprint?.multicastGroupAddress !== undefined) {
      this.multicast.addStaticMembers(nodes.map((n) => n.primaryNetworkInterfaceId));
    }
    if (props.dmzAlias) {
      this.dmzAliasRecord = new Route53Record(this, 'dmz-alias', { zoneId: props.dmzAlias.hostedZoneId, name: props.dmzAlias.name, type: 'CNAME', ttl: 30, records: [props.recordName] });
    }
    this.nodes = nodes;
    this.publicIps = ips;
    this.healthChecks = checks;
    this.records = records;
  }
}

function healthCheckPort(ports: readonly AppPort[], wanted: string | undefined): AppPort | undefined {
  if (wanted !== undefined) return ports.find((p) => p.name === wanted);
  return ports.find((p) => p.name === 'clients') ?? ports[0];
}

/** Every problem of the props (the cluster reports them with its own before building anything). */
export function dnsClusterProblems(props: AwsDnsClusterProps): Problem[] {
  return dnsClusterPortProblems(props, healthCheckPort(props.spec.ports, props.healthCheckPortName));
}

function dnsClusterPortProblems(props: AwsDnsClusterProps, checkPort: AppPort | undefined): Problem[] {
  const problems = [...subnetProblems('subnetIds', props.subnetIds), ...nodeOptionProblems(props), ...awsTagProblems(props.spec)];
  if (props.spec.profile.failoverMode !== 'dns') {
    problems.push({ path: 'spec.profile.failoverMode', message: 'AwsDnsCluster is for "dns" profiles (active/active, no guard); use AwsFailoverCluster' });
  }
  if (isKnown(props.hostedZoneId) && !/^Z[A-Z0-9]{1,31}$/.test(props.hostedZoneId)) problems.push({ path: 'hostedZoneId', message: 'must be a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ"' });
  if (isKnown(props.recordName) && !/^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.?$/.test(props.recordName)) {
    problems.push({ path: 'recordName', message: 'must be a DNS name such as "tpcs.corp.example.com"' });
  }
  problems.push(...thinprintProblems(props));
  if (!checkPort) {
    problems.push({ path: 'healthCheckPortName', message: `no port named "${props.healthCheckPortName}" (have ${props.spec.ports.map((p) => p.name).join(', ')})` });
  }
  return problems;
}

/** ThinPrint nodes: the settings their boot script needs, each naming its prop. */
function thinprintProblems(props: AwsDnsClusterProps): Problem[] {
  const { spec } = props;
  if (spec.profile.app !== 'thinprint') {
    const only = (['installCommands', 'thinprint'] as const).filter((k) => props[k] !== undefined);
    return only.map((k) => ({ path: k, message: 'only for the ThinPrint profile' }));
  }
  const problems: Problem[] = [];
  if (props.userData !== undefined) problems.push({ path: 'userData', message: 'ThinPrint nodes get the rendered node configuration; put install steps into installCommands' });
  const cidrs = spec.profile.nodeSubnetCidrs;
  const field = 'spec.profile.nodeSubnetCidrs';
  if (cidrs === undefined) problems.push({ path: field, message: 'is required for ThinPrint dns-multicast: thinprint({ nodeSubnetCidrs }), the CIDRs of subnetIds, as literals' });
  else if (cidrs.length !== props.subnetIds.length) problems.push({ path: field, message: `lists ${cidrs.length} CIDR(s) for ${props.subnetIds.length} subnet(s)` });
  else problems.push(...thinprintSettingsProblems(spec, { nodeSubnetCidrs: cidrs }).map((p) => ({ ...p, path: p.path.replace('thinprint.nodeSubnetCidrs', field) })));
  problems.push(...awsThinPrintPropsProblems(spec, props.thinprint), ...multicastGroupProblems('thinprint.multicastGroupAddress', props.thinprint?.multicastGroupAddress));
  return problems;
}
