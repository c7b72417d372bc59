import type { AppProfile } from './profile';

/**
 * How the Connection Service nodes form a cluster.
 * - `single-active`: one node runs the service at a time, chosen by failover-guard behind the
 *   load balancer (the PaperCut machinery). Every engine and every client reaches the same
 *   node, so no node-to-node channel is needed. Works on any cloud.
 * - `dns-multicast`: the vendor's cluster: every node active behind one DNS name, the nodes
 *   talking over UDP multicast. Needs a network that carries multicast (AWS: a Transit Gateway
 *   multicast domain); impossible on Azure.
 */
export type ThinPrintClusterMode = 'single-active' | 'dns-multicast';

export interface ThinPrintOptions {
  /**
   * A client's tunnel ends on the one node it connected to; an engine reaching another node
   * reaches that client only through the vendor's undocumented multicast channel. Single-active
   * needs no such channel, so it is the default (see the README's ThinPrint section).
   * @default 'single-active'
   */
  readonly clusterMode?: ThinPrintClusterMode;
  /**
   * `dns-multicast` only: the IPv4 CIDRs of the node subnets, as literals, in the order of the
   * cluster's subnet ids (MCastNodeIfBits and the node-to-node rules come from them).
   * @default - none; required for `dns-multicast`
   */
  readonly nodeSubnetCidrs?: readonly string[];
}

/** The port the guide moves the engines' (servers') connections to, from 4000. */
export const THINPRINT_SERVER_PORT = 4002;
/** The port ThinPrint Clients (or Hubs) connect to. */
export const THINPRINT_CLIENT_PORT = 4001;

/**
 * ThinPrint Connection Service, from the vendor's "High availability for Connection Service"
 * guide: Windows only; clients connect on 4001, engines (servers) on 4002 (moved from the
 * default 4000), 4000 kept for the configuration console. Nothing lives on a file share: the
 * boot script applies the guide's node settings and the client IDs and keys on every node.
 */
export function thinprint(options: ThinPrintOptions = {}): AppProfile {
  const clusterMode = options.clusterMode ?? 'single-active';
  return {
    app: 'thinprint',
    displayName: 'ThinPrint Connection Service',
    os: 'windows',
    failoverMode: clusterMode === 'dns-multicast' ? 'dns' : 'guard',
    clusterMode,
    ...(options.nodeSubnetCidrs !== undefined ? { nodeSubnetCidrs: [...options.nodeSubnetCidrs] } : {}),
    ports: [
      { name: 'default', port: 4000, protocol: 'tcp' },
      { name: 'clients', port: THINPRINT_CLIENT_PORT, protocol: 'tcp' },
      { name: 'servers', port: THINPRINT_SERVER_PORT, protocol: 'tcp' },
    ],
    installDir: 'C:\\Program Files\\ThinPrint\\Connection Service',
    sharedItems: [],
    deleteOnClone: [],
    serviceName: 'TPConnectionService',
    // ready = listening where engines connect: the server port is set in the registry under a
    // value name the vendor documents nowhere (only its console), so 4002 is what proves it took
    readiness: { kind: 'tcp', host: '127.0.0.1', port: THINPRINT_SERVER_PORT },
  };
}
