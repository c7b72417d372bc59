// The public names of failover-constructs/aws, by name: each construct, its props and the check
// it runs before it builds. Helpers the constructs share (aws-support, aws-health-check) stay inside.
export { AwsFailoverCluster, type AwsFailoverClusterProps } from './aws-failover-cluster';
export { AwsLoadBalancer, loadBalancerProblems, type AwsLoadBalancerProps, type AwsAliasRecord } from './aws-load-balancer';
export { AwsDatabase, databaseProblems, type AwsDatabaseProps } from './aws-database';
export { AwsSharedStorage, sharedStorageProblems, type AwsSharedStorageProps } from './aws-shared-storage';
export { AwsGuardAsset, guardAssetProblems, type AwsGuardAssetProps } from './aws-guard-asset';
export { AwsNodeTemplate, type AwsNodeTemplateProps, type AwsNodeOptions } from './aws-node-template';
export { AwsAppServers, appServersProblems, type AwsAppServersProps } from './aws-app-servers';
export { AwsAlarms, alarmsProblems, type AwsAlarmsProps } from './aws-alarms';
export { AwsDnsCluster, dnsClusterProblems, type AwsDnsClusterProps } from './aws-dns-cluster';
export type { NlbHealthCheck } from './aws-health-check';
export { AwsMulticastDomain, type AwsMulticastDomainProps } from './aws-multicast-domain';
export { AwsThinPrintClientKeys, type AwsThinPrintClientKeysProps, type AwsThinPrintProps, type AwsThinPrintDnsProps } from './aws-thinprint';
export { AWS_NODE_PLATFORM, awsGuardBinary, awsLifecycleHookWatch, type AwsGuardObject, type AwsLifecycleHook } from './aws-node-platform';
