import type { AppProfile } from './profile';

/**
 * ThinPrint Connection Service cluster, from the vendor's "High availability for Connection
 * Service" guide: Windows only; every node active behind one DNS name (an A record per node,
 * TTL 30 s); clients connect on 4001, engines (servers) on 4002 (moved from the default 4000),
 * 4000 kept for the configuration console. Settings replicate between nodes, so nothing is
 * shared on a file share and no guard runs.
 */
export function thinprint(): AppProfile {
  return {
    app: 'thinprint',
    displayName: 'ThinPrint Connection Service',
    os: 'windows',
    failoverMode: 'dns',
    ports: [
      { name: 'default', port: 4000, protocol: 'tcp' },
      { name: 'clients', port: 4001, protocol: 'tcp' },
      { name: 'servers', port: 4002, protocol: 'tcp' },
    ],
    installDir: 'C:\\Program Files\\ThinPrint\\Connection Service',
    sharedItems: [],
    deleteOnClone: [],
    serviceName: 'TPConnectionService',
    readiness: { kind: 'tcp', host: '127.0.0.1', port: 4001 },
  };
}
