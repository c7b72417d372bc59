import type { ClusterSpec } from './cluster-spec';

/**
 * The tag every resource of a cluster carries, `failover-cluster=<cluster name>`, so the whole
 * cluster can be found (and AWS's domain join targets its nodes) by one tag on either cloud.
 */
export const CLUSTER_TAG = 'failover-cluster';

/** The spec's tags plus the cluster tag (after them, so a user tag cannot hide it). */
export function clusterTags(spec: Pick<ClusterSpec, 'name' | 'tags'>): Record<string, string> {
  return { ...spec.tags, [CLUSTER_TAG]: spec.name };
}
