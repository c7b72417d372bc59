import { Construct } from 'constructs';
import { TrafficManagerExternalEndpoint } from '@cdktf/provider-azurerm/lib/traffic-manager-external-endpoint';
import { TrafficManagerProfile } from '@cdktf/provider-azurerm/lib/traffic-manager-profile';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';
import { isIpv4 } from './azure-support';
import { isUnresolved } from '../contracts/tokens';

/** ThinPrint's guide: the cluster name's records live 30 s, so clients move on quickly. */
export const DNS_CLUSTER_TTL_SECS = 30;
/** Traffic Manager answers with at most this many addresses per MultiValue query. */
const MAX_RETURN_LIMIT = 8;

/** Properties of an {@link AzureDnsCluster}. */
export interface AzureDnsClusterProps {
  /** The parsed cluster spec of a DNS-mode app (ThinPrint Connection Service): ports, node count, health check. */
  readonly spec: ClusterSpec;
  /** Resource group of the Traffic Manager profile (a global resource, no location). */
  readonly resourceGroupName: string;
  /** One IPv4 address per node (`spec.nodeCount` of them), reachable by Traffic Manager's probes. */
  readonly nodeAddresses: readonly string[];
  /**
   * DNS label: the cluster answers as `<relativeName>.trafficmanager.net`.
   * @default spec.name
   */
  readonly relativeName?: string;
  /**
   * Port Traffic Manager probes with TCP on every node.
   * @default the profile port named `clients`, else the first port
   */
  readonly monitorPort?: number;
  /**
   * Seconds the cluster name's answers live (ThinPrint's guide: 30).
   * @default 30
   */
  readonly ttlSecs?: number;
}

/**
 * An active/active DNS cluster name (ThinPrint Connection Service style): an Azure Traffic
 * Manager profile with MultiValue routing, TTL 30 s, one external endpoint per node and TCP
 * endpoint monitoring on the client port, so a dead node drops out of the answers. Clients (or
 * a CNAME of your own zone) use `<relativeName>.trafficmanager.net`.
 */
export class AzureDnsCluster extends Construct {
  /** The Traffic Manager profile (MultiValue routing). */
  public readonly profile: TrafficManagerProfile;
  /** One per node, in `nodeAddresses` order. */
  public readonly endpoints: TrafficManagerExternalEndpoint[];
  /** The cluster's DNS name. */
  public readonly fqdn: string;

  constructor(scope: Construct, id: string, props: AzureDnsClusterProps) {
    super(scope, id);
    throwIfProblems(this.node.path, dnsClusterProblems(props));
    const { spec } = props;
    const monitor = trafficManagerMonitor(spec, props.monitorPort ?? defaultMonitorPort(spec));
    this.profile = new TrafficManagerProfile(this, 'profile', {
      resourceGroupName: props.resourceGroupName,
      name: `${spec.name}-dns`,
      trafficRoutingMethod: 'MultiValue',
      maxReturn: Math.min(MAX_RETURN_LIMIT, props.nodeAddresses.length),
      dnsConfig: { relativeName: props.relativeName ?? spec.name, ttl: props.ttlSecs ?? DNS_CLUSTER_TTL_SECS },
      monitorConfig: monitor,
      tags: clusterTags(spec),
    });
    this.endpoints = props.nodeAddresses.map(
      (address, i) =>
        new TrafficManagerExternalEndpoint(this, `node-${i + 1}`, {
          name: `node-${i + 1}`,
          profileId: this.profile.id,
          target: address,
          enabled: true,
        }),
    );
    this.fqdn = this.profile.fqdn;
  }
}

/** The client port: the profile port named `clients` (ThinPrint 4001), else the first one. */
export function defaultMonitorPort(spec: ClusterSpec): number {
  return (spec.ports.find((p) => p.name === 'clients') ?? spec.ports[0]).port;
}

/**
 * Traffic Manager offers probe intervals of 10 s or 30 s only, timeouts 5–9 s (10 s interval)
 * or 5–10 s (30 s), and 0–9 tolerated failures; the spec's health check maps onto the nearest
 * allowed values (interval rounded up, U − 1 tolerated failures).
 */
export function trafficManagerMonitor(spec: ClusterSpec, port: number) {
  const hc = spec.healthCheck;
  const intervalInSeconds = hc.intervalSecs <= 10 ? 10 : 30;
  const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));
  return {
    protocol: 'TCP',
    port,
    intervalInSeconds,
    timeoutInSeconds: clamp(Math.ceil(hc.timeoutSecs), 5, intervalInSeconds === 10 ? 9 : 10),
    toleratedNumberOfFailures: clamp(hc.unhealthyThreshold - 1, 0, 9),
  };
}

/** Every problem of these props. */
export function dnsClusterProblems(props: AzureDnsClusterProps): Problem[] {
  const { spec } = props;
  const problems: Problem[] = [];
  if (spec.profile.app === 'thinprint') {
    problems.push({
      path: 'spec.profile.clusterMode',
      message: 'Azure virtual networks carry no multicast, so ThinPrint nodes behind one DNS name cannot reach each other\'s clients; run ThinPrint "single-active" with AzureFailoverCluster',
    });
  }
  if (spec.profile.failoverMode !== 'dns') {
    problems.push({ path: 'spec.profile.failoverMode', message: 'a DNS cluster answers with every node; active/passive (guard) apps need AzureLoadBalancer' });
  }
  if (props.nodeAddresses.length !== spec.nodeCount) {
    problems.push({ path: 'nodeAddresses', message: `lists ${props.nodeAddresses.length} address(es); spec.nodeCount is ${spec.nodeCount}` });
  }
  const seen = new Set<string>();
  props.nodeAddresses.forEach((a, i) => {
    if (isUnresolved(a)) return;
    if (!isIpv4(a)) problems.push({ path: `nodeAddresses[${i}]`, message: `"${a}" is not an IPv4 address (MultiValue routing answers with addresses only)` });
    if (seen.has(a)) problems.push({ path: `nodeAddresses[${i}]`, message: `"${a}" is listed twice` });
    seen.add(a);
  });
  if (props.relativeName !== undefined && !/^[a-z0-9](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/.test(props.relativeName)) {
    problems.push({ path: 'relativeName', message: `"${props.relativeName}" must be a DNS label: lower-case letters, digits and single dashes` });
  }
  if (props.monitorPort !== undefined && !spec.ports.some((p) => p.port === props.monitorPort)) {
    problems.push({ path: 'monitorPort', message: `${props.monitorPort} is not one of the spec's ports (${spec.ports.map((p) => p.port).join(', ')})` });
  }
  const ttl = props.ttlSecs;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647)) problems.push({ path: 'ttlSecs', message: 'must be a whole number of seconds ≥ 0' });
  return problems;
}
