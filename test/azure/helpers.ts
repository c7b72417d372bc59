import { TerraformStack, Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity';
import { AzureAppServers, type AzureAppServersProps } from '../../lib/azure/azure-app-servers';
import { AzureDatabase } from '../../lib/azure/azure-database';
import type { AzureFailoverClusterProps } from '../../lib/azure/azure-failover-cluster';
import { AzureGuardAsset } from '../../lib/azure/azure-guard-asset';
import { AzureLoadBalancer } from '../../lib/azure/azure-load-balancer';
import { AzureSharedStorage } from '../../lib/azure/azure-shared-storage';
import { papercut, parseClusterSpec, type ClusterSpec, type ClusterSpecInput } from '../../lib/spec';
import { FIXTURE_BINARY } from '../harness/guard-fixture';

/** The harness's stand-in for the guard binary (tests never depend on the real build). */
export { FIXTURE_BINARY };

export const PLACEMENT = { resourceGroupName: 'rg-test', location: 'westeurope' } as const;
export const VNET_ID = '/subscriptions/0000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet';
export const subnetId = (name: string): string => `${VNET_ID}/subnets/${name}`;

/** A PaperCut MF (Linux) spec with overrides. */
export function paperCutSpec(overrides: Partial<ClusterSpecInput> = {}): ClusterSpec {
  return parseClusterSpec({ name: 'pc', profile: papercut(), ...overrides });
}

export interface SynthResult {
  readonly json: Record<string, any>;
  readonly text: string;
}

/** Builds constructs in a fresh stack and returns the synthesized Terraform JSON. */
export function synth(build: (scope: Construct) => void): SynthResult {
  const stack = new TerraformStack(Testing.app(), 'test');
  build(stack);
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text };
}

/** Every resource of a type, by logical id. */
export function resourcesOf(json: Record<string, any>, type: string): Record<string, any>[] {
  return Object.values(json.resource?.[type] ?? {});
}

/** The only resource of a type (fails the test when there are none or several). */
export function onlyResource(json: Record<string, any>, type: string): Record<string, any> {
  const all = resourcesOf(json, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** Matches a construct's ValidationError that lists a problem for `prop` (a dotted path). */
export function propError(_construct: string, prop: string, path = '[\\w./-]+'): RegExp {
  const escaped = prop.replace(/[.[\]]/g, (c) => `\\${c}`);
  // every construct names itself by its construct path (`test/nodes is invalid:`)
  return new RegExp(`^${path} is invalid:[\\s\\S]*- ${escaped}: `);
}

/** Real OpenSSH public keys (public halves only, generated for these tests; the private halves were discarded). */
export const SSH_KEYS = {
  ed25519: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILOir8ALo5YUnc5cx0I17r3wBPwqFxJIdv+k+kPlpj9z test@example',
  rsa2048: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCtG1jiQ//LYqeIb5/AKEHqew+9mz6OpgIdhaDjc9VgnwzZERAwx+Aj38ZykvUhopIoXBLpGBJ7jzHjJ6EYCs4TRgvnjpTv3DRGTjmEpq2W4QDm5xiI0mK8MqZur6FIhbTyw2nG4QWK0bCst7dFoyoytCJs+9Vc7sEJqq/9MVE4PqItiZqhvVnIAij9pOCYq5SV7xwfNhDA8fFLH8Q/gCv4RHuOMsrR2pT6jKY6dR7XMxJ8Jrff6tqWFGWoAVfDZrvLtqcneOoVP920BOKtjXQOn8+A9bObCHCL3j3jFmgDrBBpf+EBrPflj+WCweGSXg7H9gGzXUPRB/A9wm8TcFXJ test@example',
  rsa1024: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC/NridlNXNgZG3+/71odwnL+RpKid3bQppgpWxH1Q9nlgdNiZObdhXW9yRVyE1nkiPfSk9alO10iF+BlPjaC+yBQ82IFif6FiI8RC+4h4g07GGfJIbrdcvNASBesKCEeHz0mRIjY6y8eJwNzzvBWAFphzrVDiU+u6q3B4LGqDp1w== test@example',
  ecdsa256: 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOenmOKJbQn6UWODmTXz5EeVx8EYnuiTkP9hPqwCZUfVEOy71mdr16LhOmPV/PeKRTmIIYwP9Y1PYmWE4S/FxP0= test@example',
} as const;

/** AzureFailoverCluster props of a PaperCut (Linux) cluster in the test network, with overrides. */
export const clusterProps = (over: Partial<AzureFailoverClusterProps> = {}): AzureFailoverClusterProps => ({
  ...PLACEMENT,
  spec: { name: 'pc', profile: papercut(), notificationEmails: ['ops@example.com'] },
  virtualNetworkId: VNET_ID,
  appSubnetId: subnetId('app'),
  database: { delegatedSubnetId: subnetId('db') },
  privateEndpointSubnetId: subnetId('pe'),
  createFilePrivateDnsZone: true,
  adminSshPublicKey: SSH_KEYS.ed25519,
  binaryPath: FIXTURE_BINARY,
  ...over,
});

/** Addresses `<type>.<name>` a resource waits for, directly or through the resources it depends on. */
export function dependsAfter(json: Record<string, any>, resource: Record<string, any>): Set<string> {
  const seen = new Set<string>();
  const visit = (r: Record<string, any>) => {
    for (const address of (r.depends_on ?? []) as string[]) {
      if (seen.has(address)) continue;
      seen.add(address);
      const [type, name] = address.split('.');
      const next = json.resource?.[type]?.[name];
      if (next) visit(next);
    }
  };
  visit(resource);
  return seen;
}

/**
 * An AzureAppServers `id` in the test network with real parts (load balancer, database, share,
 * guard blob; `<id>-lb`, `<id>-db`, `<id>-share`, `<id>-guard`) and a node identity
 * (`<id>-identity`, unless `over` names an identity, even undefined), all granted to it, as
 * AzureFailoverCluster wires them. Linux specs get an SSH key. The parts are built from
 * `partsSpec`, so a spec only the app servers refuse can be checked on them alone.
 */
export function azureAppServers(scope: Construct, over: Partial<AzureAppServersProps> = {}, { id = 'nodes', partsSpec }: { id?: string; partsSpec?: ClusterSpec } = {}): AzureAppServers {
  const spec = over.spec ?? paperCutSpec();
  const parts = partsSpec ?? spec;
  const identity = 'identity' in over ? over.identity : new UserAssignedIdentity(scope, `${id}-identity`, { ...PLACEMENT, name: `${spec.name}-nodes` });
  const readerPrincipalId = identity?.principalId ?? '00000000-0000-4000-8000-000000000001';
  const loadBalancer = new AzureLoadBalancer(scope, `${id}-lb`, { ...PLACEMENT, spec: parts, subnetId: subnetId('app') });
  const database = new AzureDatabase(scope, `${id}-db`, { ...PLACEMENT, spec: parts, delegatedSubnetId: subnetId('db'), virtualNetworkId: VNET_ID, readerPrincipalId });
  const storage = new AzureSharedStorage(scope, `${id}-share`, {
    ...PLACEMENT,
    spec: parts,
    privateEndpointSubnetId: subnetId('pe'),
    clientSubnetId: subnetId('app'),
    virtualNetworkId: VNET_ID,
    createPrivateDnsZone: true,
    // no NSG of the share's own: the nodes' NSG is the only one
    privateEndpointNetworkSecurityGroup: false,
    keyVaultId: database.keyVault?.id,
    keyVaultWriter: database.secretsWriterReady,
    readerPrincipalId,
  });
  const guardAsset = new AzureGuardAsset(scope, `${id}-guard`, { ...PLACEMENT, spec: parts, binaryPath: FIXTURE_BINARY, readerPrincipalId });
  return new AzureAppServers(scope, id, {
    ...PLACEMENT,
    spec,
    subnetId: subnetId('app'),
    identity,
    loadBalancer,
    database,
    storage,
    guardAsset,
    ...(spec.profile.os === 'linux' ? { adminSshPublicKey: SSH_KEYS.ed25519 } : {}),
    ...over,
  });
}
