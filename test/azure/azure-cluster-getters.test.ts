import { TerraformOutput } from 'cdktf';
import { AzureFailoverCluster, type AzureFailoverClusterProps } from '../../lib/azure/azure-failover-cluster';
import { custom, papercut } from '../../lib/spec';
import { FIXTURE_BINARY, PLACEMENT, SSH_KEYS, VNET_ID, subnetId, synth } from './helpers';

const base = (over: Partial<AzureFailoverClusterProps> = {}): AzureFailoverClusterProps => ({
  ...PLACEMENT,
  spec: { name: 'pc', profile: papercut(), notificationEmails: ['ops@example.com'] },
  virtualNetworkId: VNET_ID,
  appSubnetId: subnetId('app'),
  databaseSubnetId: subnetId('db'),
  privateEndpointSubnetId: subnetId('pe'),
  createFilePrivateDnsZone: true,
  adminSshPublicKey: SSH_KEYS.ed25519,
  binaryPath: FIXTURE_BINARY,
  ...over,
});

/** `${type.address.attribute}` of an output that references one resource attribute (the resource must exist). */
function referenced(json: Record<string, any>, name: string): { type: string; attribute: string } {
  const value = String(json.output[name].value);
  const match = /^\$\{([a-z0-9_]+)\.([\w-]+)\.([a-z_]+)(?:\[0\]\.([a-z_]+))?\}$/.exec(value);
  if (!match) throw new Error(`output ${name} is ${value}, not one reference`);
  const [, type, address, attribute, nested] = match;
  expect(json.resource[type]?.[address]).toBeDefined();
  return { type, attribute: nested ? `${attribute}[0].${nested}` : attribute };
}

describe('AzureFailoverCluster convenience getters', () => {
  // given: a PaperCut cluster whose getters are written as outputs, as users do
  let cluster!: AzureFailoverCluster;
  const { json } = synth((s) => {
    cluster = new AzureFailoverCluster(s, 'cluster', base({ fileStorageAccountName: 'pcfiles01' }));
    const outputs: Record<string, unknown> = {
      lb_address: cluster.loadBalancerAddress,
      lb_id: cluster.loadBalancerId,
      db_host: cluster.databaseHost,
      db_id: cluster.databaseId,
      storage_id: cluster.storageId,
      guard_url: cluster.guardAssetUrl,
      guard_container: cluster.guardAssetContainerName,
    };
    for (const [name, value] of Object.entries(outputs)) new TerraformOutput(s, name, { value });
  });

  it.each([
    ['lb_address', 'azurerm_lb', 'frontend_ip_configuration[0].private_ip_address'],
    ['lb_id', 'azurerm_lb', 'id'],
    ['db_host', 'azurerm_postgresql_flexible_server', 'fqdn'],
    ['db_id', 'azurerm_postgresql_flexible_server', 'id'],
    ['storage_id', 'azurerm_storage_account', 'id'],
    ['guard_url', 'azurerm_storage_blob', 'url'],
    ['guard_container', 'azurerm_storage_container', 'name'],
  ])('%s is the %s attribute %s', (name, type, attribute) => {
    expect(referenced(json, name)).toEqual({ type, attribute });
  });

  it('storageId is the share\'s account, not the guard\'s', () => {
    const account = /^\$\{azurerm_storage_account\.([\w-]+)\.id\}$/.exec(String(json.output.storage_id.value))![1];
    expect(json.resource.azurerm_storage_account[account].account_kind).toBe('FileStorage');
  });

  it('databasePort is the engine port; storageDnsName is the account\'s file endpoint, known at plan time', () => {
    expect(cluster.databasePort).toBe(5432);
    expect(cluster.storageDnsName).toBe('pcfiles01.file.core.windows.net');
  });

  it('an existing database has a host but no server id', () => {
    // a profile without an app database user of its own (see the next test)
    let existing!: AzureFailoverCluster;
    const spec = { name: 'pc', profile: custom({ displayName: 'Acme', os: 'linux', ports: [{ name: 'http', port: 8080 }], installDir: '/opt/acme', serviceName: 'acme.service', readiness: { kind: 'tcp', port: 8080 } }), notificationEmails: ['ops@example.com'], database: { engine: 'postgres' as const, existing: { host: 'db.corp.example.com', port: 6432, username: 'guard', passwordSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/db' } } };
    synth((s) => (existing = new AzureFailoverCluster(s, 'cluster', base({ spec, databaseSubnetId: undefined }))));
    expect([existing.databaseHost, existing.databasePort, existing.databaseId]).toEqual(['db.corp.example.com', 6432, undefined]);
  });

  it('an existing database with a profile that has its own database user (PaperCut) is refused up front, naming spec.database.existing', () => {
    const spec = { name: 'pc', profile: papercut(), notificationEmails: ['ops@example.com'], database: { engine: 'postgres' as const, existing: { host: 'db.corp.example.com', username: 'guard', passwordSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/db' } } };
    expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec, databaseSubnetId: undefined })))).toThrow(/^test\/cluster is invalid:[\s\S]*- spec\.database\.existing: PaperCut MF's own database user "papercut_app" keeps its password in the Key Vault/);
  });
});
