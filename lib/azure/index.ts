// The public names of failover-constructs/azure, by name: each construct, its props and the check
// it runs before it builds. Helpers the constructs share (azure-support, azure-health-check,
// lib/synth/terraform-template) stay inside.
export type { AzurePlacement } from './azure-support';
export type { AzureProbeSettings } from './azure-health-check';
export { AzureFailoverCluster, type AzureFailoverClusterProps } from './azure-failover-cluster';
export { AzureLoadBalancer, loadBalancerProblems, type AzureLoadBalancerProps } from './azure-load-balancer';
export { AzureDatabase, databaseProblems, type AzureDatabaseProps } from './azure-database';
export { AzureSharedStorage, sharedStorageProblems, type AzureSharedStorageProps } from './azure-shared-storage';
export { AzureGuardAsset, guardAssetProblems, type AzureGuardAssetProps } from './azure-guard-asset';
export { AzureAppServers, appServersProblems, type AzureAppServersProps, type AzureImageReference } from './azure-app-servers';
export { AzureAlarms, alarmsProblems, type AzureAlarmsProps } from './azure-alarms';
export { AzureDnsCluster, dnsClusterProblems, type AzureDnsClusterProps } from './azure-dns-cluster';
export { AzureThinPrintClientKeys, type AzureThinPrintClientKeysProps, type AzureThinPrintProps } from './azure-thinprint';
export { AzureRoleAssignmentWait, type AzureRoleAssignmentWaitProps } from './azure-rbac-propagation';
export { AZURE_HANDOVER_EVENTS, AZURE_PROBE_SOURCE, AZURE_SCHEDULED_EVENTS_WATCH, azureCustomDataCommand, azureGuardBlob, azureNodePlatform } from './azure-node-platform';
