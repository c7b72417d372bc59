import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { AppPort } from '../spec/profile';
import { drainSecs } from '../contracts/timing';
import { throwIfProblems } from '../problems/problems';
import { isKnown } from '../contracts/tokens';
import { awsName, awsTags, subnetProblems, vpcCidrOf } from './aws-support';
import { nlbHealthCheck, type NlbHealthCheck } from './aws-health-check';

/** A Route 53 alias record pointing at the load balancer. */
export interface AwsAliasRecord {
  /** Hosted zone id (public or private). */
  readonly hostedZoneId: string;
  /** Record name, e.g. `papercut.corp.example.com`. */
  readonly name: string;
}

/** Properties of an {@link AwsLoadBalancer}. */
export interface AwsLoadBalancerProps {
  /** The parsed cluster spec (profile ports, guard port, health check, load balancer options). */
  readonly spec: ClusterSpec;
  /** VPC of the load balancer and its targets. */
  readonly vpcId: string;
  /** Private subnets (two or more, in different availability zones) of an internal load balancer. */
  readonly subnetIds: readonly string[];
  /**
   * Public subnets; required when `spec.loadBalancer.scheme` is `public`.
   * @default - none
   */
  readonly publicSubnetIds?: readonly string[];
  /**
   * The VPC's CIDR: who may reach an internal load balancer when `spec.loadBalancer.allowedCidrs`
   * is not set.
   * @default - looked up from `vpcId` at plan time
   */
  readonly vpcCidr?: string;
  /**
   * Port of the TLS listener (only with `spec.loadBalancer.certificateRef`).
   * @default 443
   */
  readonly tlsPort?: number;
  /**
   * Which profile port the TLS listener forwards to.
   * @default 'http' if the profile has it, else the first port
   */
  readonly tlsTargetPortName?: string;
  /**
   * Route 53 alias record for the load balancer.
   * @default - none
   */
  readonly aliasRecord?: AwsAliasRecord;
  /**
   * Seconds a deregistering target keeps its connections.
   * @default the guard's drain time
   * (U·I + T), rounded up: a node is already out of rotation by then
   */
  readonly deregistrationDelaySecs?: number;
}

const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;

/**
 * Network Load Balancer in front of the app servers: a TCP listener and target group per
 * profile port, every target group health-checking the guard's `GET /health` (200 only on the
 * active node), client IP preserved, cross-zone on, connections closed on deregistration.
 */
export class AwsLoadBalancer extends Construct {
  /** The Network Load Balancer. */
  public readonly loadBalancer: Lb;
  /** Security group of the load balancer; targets allow traffic from it. */
  public readonly securityGroup: SecurityGroup;
  /** One target group per profile port, by port name. */
  public readonly targetGroups: Readonly<Record<string, LbTargetGroup>>;
  /** One TCP listener per profile port, by port name. */
  public readonly listeners: Readonly<Record<string, LbListener>>;
  /** The TLS listener (only with `spec.loadBalancer.certificateRef`). */
  public readonly tlsListener?: LbListener;
  /** The Route 53 alias record, when `aliasRecord` was given. */
  public readonly aliasRecord?: Route53Record;
  /** The name clients use: the alias record's name, else the load balancer's DNS name. */
  public readonly address: string;
  /** The health check as AWS runs it (whole seconds). */
  public readonly healthCheck: NlbHealthCheck;
  /** The ports clients reach: the profile ports, plus the TLS port when there is one. */
  public readonly listenerPorts: readonly number[];
  /** The subnets the load balancer's nodes (and so its health checks) are in. */
  public readonly subnetIds: readonly string[];

  constructor(scope: Construct, id: string, props: AwsLoadBalancerProps) {
    super(scope, id);
    const { spec } = props;
    const lbSpec = spec.loadBalancer;
    const isPublic = lbSpec.scheme === 'public';
    const tlsPort = props.tlsPort ?? 443;
    const { check } = nlbHealthCheck(spec);
    const tlsTarget = tlsTargetPort(spec.ports, props.tlsTargetPortName);
    throwIfProblems(this.node.path, loadBalancerProblems(props));

    const name = awsName(spec.name, 'nlb');
    const tags = awsTags(spec);
    this.healthCheck = check;
    this.securityGroup = new SecurityGroup(this, 'sg', {
      name: awsName(spec.name, 'lb', 255),
      description: `${spec.name}: clients to the load balancer`,
      vpcId: props.vpcId,
      tags: awsTags(spec, `${spec.name}-lb`),
    });
    this.subnetIds = [...(isPublic ? props.publicSubnetIds! : props.subnetIds)];
    this.loadBalancer = new Lb(this, 'nlb', {
      name,
      loadBalancerType: 'network',
      internal: !isPublic,
      subnets: [...(isPublic ? props.publicSubnetIds! : props.subnetIds)],
      securityGroups: [this.securityGroup.id],
      enableCrossZoneLoadBalancing: true,
      tags,
    });
    const drain = props.deregistrationDelaySecs ?? Math.ceil(drainSecs(check));
    const groups: Record<string, LbTargetGroup> = {};
    const listeners: Record<string, LbListener> = {};
    for (const port of spec.ports) {
      groups[port.name] = new LbTargetGroup(this, `tg-${port.name}`, {
        name: awsName(spec.name, String(port.port)),
        port: port.port,
        protocol: 'TCP',
        targetType: 'instance',
        vpcId: props.vpcId,
        preserveClientIp: String(lbSpec.preserveClientIp),
        deregistrationDelay: String(drain),
        connectionTermination: true,
        healthCheck: {
          enabled: true,
          protocol: 'HTTP',
          port: String(check.port),
          path: check.path,
          matcher: '200',
          interval: check.intervalSecs,
          timeout: check.timeoutSecs,
          healthyThreshold: check.healthyThreshold,
          unhealthyThreshold: check.unhealthyThreshold,
        },
        tags,
      });
      listeners[port.name] = new LbListener(this, `listener-${port.name}`, {
        loadBalancerArn: this.loadBalancer.arn,
        port: port.port,
        protocol: 'TCP',
        defaultAction: [{ type: 'forward', targetGroupArn: groups[port.name].arn }],
        tags,
      });
    }
    this.targetGroups = groups;
    this.listeners = listeners;
    const ports = spec.ports.map((p) => p.port);
    if (lbSpec.certificateRef) {
      this.tlsListener = new LbListener(this, 'listener-tls', {
        loadBalancerArn: this.loadBalancer.arn,
        port: tlsPort,
        protocol: 'TLS',
        certificateArn: lbSpec.certificateRef,
        sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        defaultAction: [{ type: 'forward', targetGroupArn: groups[tlsTarget!.name].arn }],
        tags,
      });
      ports.push(tlsPort);
    }
    this.listenerPorts = ports;

    // Clients → listener ports only; an internal load balancer defaults to the VPC's range.
    const cidrs = lbSpec.allowedCidrs ?? (isPublic ? ['0.0.0.0/0'] : [vpcCidrOf(this, props.vpcId, props.vpcCidr)]);
    cidrs.forEach((cidr, i) => {
      for (const port of ports) {
        new VpcSecurityGroupIngressRule(this, `clients-${i}-${port}`, {
          securityGroupId: this.securityGroup.id,
          cidrIpv4: cidr,
          ipProtocol: 'tcp',
          fromPort: port,
          toPort: port,
          description: `clients to port ${port}`,
        });
      }
    });

    if (props.aliasRecord) {
      this.aliasRecord = new Route53Record(this, 'alias', {
        zoneId: props.aliasRecord.hostedZoneId,
        name: props.aliasRecord.name,
        type: 'A',
        alias: { name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true },
      });
    }
    this.address = props.aliasRecord?.name ?? this.loadBalancer.dnsName;
  }

  /** The load balancer's DNS name (`<name>-<id>.elb.<region>.amazonaws.com`), what a CNAME or an output points at. */
  public get loadBalancerDnsName(): string {
    return this.loadBalancer.dnsName;
  }

  /** The load balancer's ARN. */
  public get loadBalancerArn(): string {
    return this.loadBalancer.arn;
  }
}

function tlsTargetPort(ports: readonly AppPort[], wanted: string | undefined): AppPort | undefined {
  if (wanted !== undefined) return ports.find((p) => p.name === wanted);
  return ports.find((p) => p.name === 'http') ?? ports[0];
}

/** Every problem of these props (AwsFailoverCluster checks them before it builds anything). */
export function loadBalancerProblems(props: AwsLoadBalancerProps): Problem[] {
  const tlsTarget = tlsTargetPort(props.spec.ports, props.tlsTargetPortName);
  return [...nlbHealthCheck(props.spec).problems, ...loadBalancerPropProblems(props, props.tlsPort ?? 443, tlsTarget)];
}

function loadBalancerPropProblems(props: AwsLoadBalancerProps, tlsPort: number, tlsTarget: AppPort | undefined): Problem[] {
  const { spec } = props;
  const lb = spec.loadBalancer;
  const problems: Problem[] = [];
  if (spec.profile.failoverMode !== 'guard') {
    problems.push({ path: 'spec.profile.failoverMode', message: 'AwsLoadBalancer health-checks the guard; a "dns" profile uses AwsDnsCluster' });
  }
  if (lb.layer !== 4) problems.push({ path: 'spec.loadBalancer.layer', message: 'AWS uses a Network Load Balancer: only layer 4' });
  if (lb.floatingIp) problems.push({ path: 'spec.loadBalancer.floatingIp', message: 'an AWS Network Load Balancer has no floating IP / direct server return' });
  problems.push(...subnetProblems('subnetIds', props.subnetIds));
  if (lb.scheme === 'public') problems.push(...subnetProblems('publicSubnetIds', props.publicSubnetIds));
  if (isKnown(lb.certificateRef) && !ACM_ARN.test(lb.certificateRef)) {
    problems.push({ path: 'spec.loadBalancer.certificateRef', message: 'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)' });
  }
  if (lb.certificateRef !== undefined) {
    if (!Number.isInteger(tlsPort) || tlsPort < 1 || tlsPort > 65535) problems.push({ path: 'tlsPort', message: 'must be 1–65535' });
    else if (spec.ports.some((p) => p.port === tlsPort)) problems.push({ path: 'tlsPort', message: `port ${tlsPort} is already a profile port` });
    if (!tlsTarget) problems.push({ path: 'tlsTargetPortName', message: `no port named "${props.tlsTargetPortName}" (have ${spec.ports.map((p) => p.name).join(', ')})` });
  }
  const delay = props.deregistrationDelaySecs;
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > 3600)) {
    problems.push({ path: 'deregistrationDelaySecs', message: 'must be a whole number of seconds, 0–3600' });
  }
  return problems;
}
