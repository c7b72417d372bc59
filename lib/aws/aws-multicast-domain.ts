import { Ec2TransitGateway } from '@cdktf/provider-aws/lib/ec2-transit-gateway';
import { Ec2TransitGatewayMulticastDomain } from '@cdktf/provider-aws/lib/ec2-transit-gateway-multicast-domain';
import { Ec2TransitGatewayMulticastDomainAssociation } from '@cdktf/provider-aws/lib/ec2-transit-gateway-multicast-domain-association';
import { Ec2TransitGatewayMulticastGroupMember } from '@cdktf/provider-aws/lib/ec2-transit-gateway-multicast-group-member';
import { Ec2TransitGatewayVpcAttachment } from '@cdktf/provider-aws/lib/ec2-transit-gateway-vpc-attachment';
import { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { throwIfProblems } from '../problems/problems';
import { isKnown } from '../contracts/tokens';
import { awsTags, subnetProblems } from './aws-support';

/** Properties of an {@link AwsMulticastDomain}. */
export interface AwsMulticastDomainProps {
  /** The parsed cluster spec (name, tags). */
  readonly spec: ClusterSpec;
  /** VPC of the nodes. */
  readonly vpcId: string;
  /** The nodes' subnets: each is attached to the transit gateway and associated with the domain. */
  readonly subnetIds: readonly string[];
  /**
   * Register these network interfaces as static members of `groupAddress`, besides their IGMP
   * joins, so membership does not hinge on IGMP reports.
   * @default - none (IGMP only)
   */
  readonly memberNetworkInterfaceIds?: readonly string[];
  /**
   * The multicast group the app uses, for static membership. ThinPrint does not document its
   * group, so IGMP (the nodes join whatever group the service opens) is the default.
   * @default - none
   */
  readonly groupAddress?: string;
}

/**
 * A VPC carries multicast only through a Transit Gateway multicast domain: a transit gateway
 * with multicast support, a VPC attachment in the nodes' subnets, a domain with IGMPv2 (hosts
 * join and leave groups themselves; the gateway queries them) and the subnets associated with
 * it. Optionally static group members for known network interfaces.
 */
export class AwsMulticastDomain extends Construct {
  /** The Transit Gateway (multicast support on). */
  public readonly transitGateway: Ec2TransitGateway;
  /** The VPC attachment of the nodes' subnets. */
  public readonly attachment: Ec2TransitGatewayVpcAttachment;
  /** The multicast domain (IGMPv2 on). */
  public readonly domain: Ec2TransitGatewayMulticastDomain;
  /** One association per subnet. */
  public readonly associations: readonly Ec2TransitGatewayMulticastDomainAssociation[];
  /** Static group members added with {@link addStaticMembers}. */
  public readonly members: Ec2TransitGatewayMulticastGroupMember[] = [];
  private readonly groupAddress?: string;

  constructor(scope: Construct, id: string, props: AwsMulticastDomainProps) {
    super(scope, id);
    throwIfProblems(this.node.path, multicastDomainProblems(props));
    const { spec } = props;
    this.transitGateway = new Ec2TransitGateway(this, 'transit-gateway', {
      description: `${spec.name}: multicast between the cluster nodes`,
      multicastSupport: 'enable',
      // only this cluster's attachment; nothing routes through it by accident
      autoAcceptSharedAttachments: 'disable',
      defaultRouteTableAssociation: 'disable',
      defaultRouteTablePropagation: 'disable',
      tags: awsTags(spec, `${spec.name}-multicast`),
    });
    this.attachment = new Ec2TransitGatewayVpcAttachment(this, 'attachment', {
      transitGatewayId: this.transitGateway.id,
      vpcId: props.vpcId,
      subnetIds: [...props.subnetIds],
      transitGatewayDefaultRouteTableAssociation: false,
      transitGatewayDefaultRouteTablePropagation: false,
      tags: awsTags(spec, `${spec.name}-multicast`),
    });
    this.domain = new Ec2TransitGatewayMulticastDomain(this, 'domain', {
      transitGatewayId: this.transitGateway.id,
      igmpv2Support: 'enable',
      staticSourcesSupport: 'disable',
      autoAcceptSharedAssociations: 'disable',
      tags: awsTags(spec, `${spec.name}-multicast`),
    });
    this.associations = props.subnetIds.map(
      (subnetId, i) =>
        new Ec2TransitGatewayMulticastDomainAssociation(this, `subnet-${i + 1}`, {
          transitGatewayAttachmentId: this.attachment.id,
          transitGatewayMulticastDomainId: this.domain.id,
          subnetId,
        }),
    );
    this.groupAddress = props.groupAddress;
    this.addStaticMembers(props.memberNetworkInterfaceIds ?? []);
  }

  /** Registers network interfaces (e.g. nodes created after the domain) as static members of `groupAddress`. */
  public addStaticMembers(networkInterfaceIds: readonly string[]): void {
    const group = this.groupAddress;
    if (networkInterfaceIds.length === 0) return;
    if (group === undefined) throw new Error(`${this.node.path}: static members need groupAddress`);
    for (const networkInterfaceId of networkInterfaceIds) {
      this.members.push(
        new Ec2TransitGatewayMulticastGroupMember(this, `member-${this.members.length + 1}`, {
          transitGatewayMulticastDomainId: this.domain.id,
          groupIpAddress: group,
          networkInterfaceId,
          dependsOn: [...this.associations],
        }),
      );
    }
  }
}

function multicastDomainProblems(props: AwsMulticastDomainProps): Problem[] {
  const group = props.groupAddress;
  const problems = [...subnetProblems('subnetIds', props.subnetIds), ...multicastGroupProblems('groupAddress', group)];
  if (group === undefined && (props.memberNetworkInterfaceIds ?? []).length > 0) {
    problems.push({ path: 'memberNetworkInterfaceIds', message: 'static members need groupAddress' });
  }
  return problems;
}

/** A multicast group address, where a prop names one. */
export function multicastGroupProblems(path: string, group: string | undefined): Problem[] {
  return isKnown(group) && !isMulticastAddress(group) ? [{ path, message: `"${group}" is not an IPv4 multicast address (224.0.0.0/4)` }] : [];
}

function isMulticastAddress(address: string): boolean {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return false;
  return Number(parts[0]) >= 224 && Number(parts[0]) <= 239;
}
