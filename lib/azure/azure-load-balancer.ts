import { Construct } from 'constructs';
import { Lb } from '@cdktf/provider-azurerm/lib/lb';
import { LbBackendAddressPool } from '@cdktf/provider-azurerm/lib/lb-backend-address-pool';
import { LbProbe } from '@cdktf/provider-azurerm/lib/lb-probe';
import { LbRule } from '@cdktf/provider-azurerm/lib/lb-rule';
import { PublicIp } from '@cdktf/provider-azurerm/lib/public-ip';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';
import { isIpv4, type AzurePlacement, placementOf } from './azure-support';
import { azureProbeProblems, azureProbeSettings, type AzureProbeSettings } from './azure-health-check';
import { isUnresolved } from '../contracts/tokens';
import { GUARD_HEALTH_PATH } from '../contracts/guard-endpoints';

/** Properties of an {@link AzureLoadBalancer}. */
export interface AzureLoadBalancerProps extends AzurePlacement {
  /** The parsed cluster spec: ports, health check, `loadBalancer` options. */
  readonly spec: ClusterSpec;
  /**
   * Subnet of the internal frontend; required unless `spec.loadBalancer.scheme` is `public`.
   * @default - none
   */
  readonly subnetId?: string;
  /**
   * Fixed private frontend address inside `subnetId`.
   * @default - allocated dynamically
   */
  readonly frontendPrivateIp?: string;
  /**
   * Zones of the frontend (zone-redundant by default).
   * @default ['1', '2', '3']
   */
  readonly zones?: readonly string[];
}

/**
 * Standard SKU Azure Load Balancer in front of the app servers: internal by default, one TCP
 * rule per profile port, all sharing one HTTP probe of the guard's `GET /health`, so only the
 * active node gets traffic. Floating IP (direct server return) when `spec.loadBalancer.floatingIp`.
 */
export class AzureLoadBalancer extends Construct {
  /** The Standard Load Balancer. */
  public readonly loadBalancer: Lb;
  /** The backend pool the app servers' scale set joins. */
  public readonly backendPool: LbBackendAddressPool;
  /** The HTTP probe on the guard's `/health`. */
  public readonly probe: LbProbe;
  /** One rule per profile port, in the spec's order. */
  public readonly rules: LbRule[];
  /** Only for `scheme: 'public'`. */
  public readonly publicIp?: PublicIp;
  /** The frontend's address (private IP, or the public IP): the VIP a floating-IP node puts on `lo`. */
  public readonly frontendIpAddress: string;
  /** How the spec's health check became the probe (and the timings the guard is told). */
  public readonly probeSettings: AzureProbeSettings;

  constructor(scope: Construct, id: string, props: AzureLoadBalancerProps) {
    super(scope, id);
    throwIfProblems(this.node.path, loadBalancerProblems(props));
    const { spec } = props;
    const isPublic = spec.loadBalancer.scheme === 'public';
    const zones = [...(props.zones ?? ['1', '2', '3'])];
    const tags = clusterTags(spec);
    const placement = placementOf(props);
    this.probeSettings = azureProbeSettings(spec);

    if (isPublic) {
      this.publicIp = new PublicIp(this, 'public-ip', {
        ...placement,
        name: `${spec.name}-lb-pip`,
        sku: 'Standard',
        allocationMethod: 'Static',
        zones,
        tags,
      });
    }
    const frontendName = 'frontend';
    this.loadBalancer = new Lb(this, 'lb', {
      ...placement,
      name: `${spec.name}-lb`,
      sku: 'Standard',
      frontendIpConfiguration: [
        isPublic
          ? { name: frontendName, publicIpAddressId: this.publicIp!.id }
          : {
              name: frontendName,
              subnetId: props.subnetId,
              privateIpAddressAllocation: props.frontendPrivateIp ? 'Static' : 'Dynamic',
              privateIpAddress: props.frontendPrivateIp,
              zones,
            },
      ],
      tags,
    });
    this.frontendIpAddress = isPublic ? this.publicIp!.ipAddress : this.loadBalancer.frontendIpConfiguration.get(0).privateIpAddress;

    this.backendPool = new LbBackendAddressPool(this, 'pool', { name: `${spec.name}-nodes`, loadbalancerId: this.loadBalancer.id });
    this.probe = new LbProbe(this, 'probe', {
      name: 'guard-health',
      loadbalancerId: this.loadBalancer.id,
      protocol: 'Http',
      port: spec.guard.port,
      requestPath: GUARD_HEALTH_PATH,
      intervalInSeconds: this.probeSettings.intervalInSeconds,
      probeThreshold: this.probeSettings.probeThreshold,
    });
    this.rules = spec.ports.map(
      (p) =>
        new LbRule(this, `rule-${p.name}`, {
          name: `${p.name}-${p.port}`,
          loadbalancerId: this.loadBalancer.id,
          frontendIpConfigurationName: frontendName,
          protocol: 'Tcp',
          frontendPort: p.port,
          backendPort: p.port,
          backendAddressPoolIds: [this.backendPool.id],
          probeId: this.probe.id,
          floatingIpEnabled: spec.loadBalancer.floatingIp,
          // A reset tells clients at once that the old node is gone after a failover.
          tcpResetEnabled: true,
          // Outbound traffic is not this rule's business (and SNAT on it clashes with floating IP).
          disableOutboundSnat: true,
        }),
    );
  }

  /** The name or address clients use: the frontend's IP address (an Azure load balancer has no DNS name of its own). */
  public get address(): string {
    return this.frontendIpAddress;
  }

  /** The load balancer's Azure resource id. */
  public get loadBalancerId(): string {
    return this.loadBalancer.id;
  }
}

/** Everything wrong with the props, each naming its prop. */
export function loadBalancerProblems(props: AzureLoadBalancerProps): Problem[] {
  const { spec } = props;
  const problems: Problem[] = [];
  if (spec.profile.failoverMode !== 'guard') {
    problems.push({ path: 'spec.profile.failoverMode', message: `"${spec.profile.failoverMode}" apps have no guard to probe; use AzureDnsCluster` });
  }
  if (spec.loadBalancer.layer !== 4) {
    problems.push({ path: 'spec.loadBalancer.layer', message: 'Azure Standard Load Balancer forwards TCP (layer 4) only; use 4' });
  }
  if (spec.loadBalancer.certificateRef !== undefined) {
    problems.push({ path: 'spec.loadBalancer.certificateRef', message: 'Azure Standard Load Balancer cannot terminate TLS; the app serves TLS itself (PaperCut: port 9192)' });
  }
  const isPublic = spec.loadBalancer.scheme === 'public';
  if (!isPublic && !props.subnetId) problems.push({ path: 'subnetId', message: 'required for an internal load balancer' });
  if (props.frontendPrivateIp !== undefined) {
    if (isPublic) problems.push({ path: 'frontendPrivateIp', message: 'only for an internal load balancer (spec.loadBalancer.scheme "internal")' });
    else if (!isUnresolved(props.frontendPrivateIp) && !isIpv4(props.frontendPrivateIp)) {
      problems.push({ path: 'frontendPrivateIp', message: `"${props.frontendPrivateIp}" is not an IPv4 address` });
    }
  }
  if (props.zones !== undefined && props.zones.length === 0) problems.push({ path: 'zones', message: 'must list at least one zone' });
  return [...problems, ...(spec.profile.failoverMode === 'guard' ? azureProbeProblems(spec) : [])];
}
