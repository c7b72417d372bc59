import { Fn, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { DataAzurermClientConfig } from '@cdktf/provider-azurerm/lib/data-azurerm-client-config';
import { DataAzurermSubnet } from '@cdktf/provider-azurerm/lib/data-azurerm-subnet';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { isUnresolved } from '../contracts/tokens';
import { CLUSTER_TAG } from '../spec/tags';

/** Where a construct puts its resources. Plain names, so an existing resource group works as well as a new one. */
export interface AzurePlacement {
  /** Resource group that holds the resources (created by AzureFailoverCluster, or an existing one). */
  readonly resourceGroupName: string;
  /** Azure region, e.g. `westeurope`; must offer availability zones. */
  readonly location: string;
}

/** Just the placement of a props object (spread into every resource's config). */
export function placementOf(props: AzurePlacement): AzurePlacement {
  return { resourceGroupName: props.resourceGroupName, location: props.location };
}

/** One `azurerm_client_config` data source per stack (subscription, tenant, deploying principal). */
export function clientConfig(scope: Construct): DataAzurermClientConfig {
  const stack = TerraformStack.of(scope);
  const id = 'azurerm-client-config';
  return (stack.node.tryFindChild(id) as DataAzurermClientConfig | undefined) ?? new DataAzurermClientConfig(stack, id);
}

/**
 * A globally unique, deterministic name for storage accounts, key vaults and database servers
 * (3–24 lower-case letters and digits; each is a public DNS name): the cluster name, a purpose tag and 8 hex chars of
 * md5(subscription/resource group/cluster/purpose). Known at plan time (the data source is read
 * during plan), stable across runs, different per subscription and resource group.
 */
export function globalName(scope: Construct, placement: AzurePlacement, spec: ClusterSpec, purpose: 'fs' | 'gb' | 'kv' | 'db'): string {
  const base = spec.name.replace(/-/g, '').slice(0, 24 - purpose.length - 8);
  const subscription = clientConfig(scope).subscriptionId;
  const hash = Fn.substr(Fn.md5(Fn.join('/', [subscription, placement.resourceGroupName, spec.name, purpose])), 0, 8);
  return `${base}${purpose}${hash}`;
}

/** Azure storage account names: 3–24 lower-case letters and digits, globally unique. */
export function storageAccountNameProblems(prop: string, name: string | undefined): Problem[] {
  if (name === undefined || isUnresolved(name) || /^[a-z0-9]{3,24}$/.test(name)) return [];
  return [{ path: prop, message: `"${name}" must be 3–24 lower-case letters and digits (a storage account name)` }];
}

/** Azure allows 50 tags per resource; clusterTags adds `failover-cluster`. */
export const AZURE_MAX_SPEC_TAGS = 49;

/** Problems with `spec.tags` Azure would refuse at apply time: too many, or a character tag names may not contain. */
export function azureTagProblems(spec: ClusterSpec): Problem[] {
  const keys = Object.keys(spec.tags);
  const problems: Problem[] = [];
  if (keys.length > AZURE_MAX_SPEC_TAGS) problems.push({ path: 'spec.tags', message: `${keys.length} tags; Azure allows 50 per resource and one is ours (${CLUSTER_TAG}): at most ${AZURE_MAX_SPEC_TAGS}` });
  for (const key of keys) {
    if (/[<>%&\\?/]/.test(key)) problems.push({ path: `spec.tags.${key}`, message: 'Azure tag names may not contain < > % & \\ ? /' });
    if (key === CLUSTER_TAG) problems.push({ path: `spec.tags.${key}`, message: 'is set by the constructs (the cluster name)' });
  }
  return problems;
}

const AZURE_ID_SHAPES = {
  virtualNetwork: { pattern: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+$/i, what: 'virtual network' },
  subnet: { pattern: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i, what: 'subnet' },
} as const;

/**
 * A literal Azure resource id of the given kind (`/subscriptions/<subscription>/resourceGroups/<rg>/
 * providers/Microsoft.Network/virtualNetworks/<vnet>[/subnets/<subnet>]`). Tokens pass: they
 * are known only at plan time. Missing values are left to the caller's "required" checks.
 */
export function azureIdProblems(prop: string, id: string | undefined, kind: keyof typeof AZURE_ID_SHAPES): Problem[] {
  if (!id || isUnresolved(id) || AZURE_ID_SHAPES[kind].pattern.test(id)) return [];
  const example = `/subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>${kind === 'subnet' ? '/subnets/<subnet>' : ''}`;
  return [{ path: prop, message: `"${id}" is not a ${AZURE_ID_SHAPES[kind].what} resource id (${example})` }];
}

/** True when a plain (resolved) string is a dotted-quad IPv4 address. */
export function isIpv4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/**
 * The subnet behind a subnet resource id, read at plan time (its address prefixes, NSG and
 * network policies). The id's parts are taken from the literal id, or by Terraform from a token.
 */
export function subnetLookup(scope: Construct, id: string, subnetId: string): DataAzurermSubnet {
  const part = (index: number): string => (isUnresolved(subnetId) ? Fn.element(Fn.split('/', subnetId), index) : subnetId.split('/')[index]);
  // /subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<name>
  return new DataAzurermSubnet(scope, id, { resourceGroupName: part(4), virtualNetworkName: part(8), name: part(10) });
}

/** True when a literal subnet id lies inside a literal virtual network id (tokens: true, decided at plan). */
export function subnetInNetwork(subnetId: string, virtualNetworkId: string): boolean {
  if (isUnresolved(subnetId) || isUnresolved(virtualNetworkId)) return true;
  return subnetId.toLowerCase().startsWith(`${virtualNetworkId.toLowerCase()}/subnets/`);
}
