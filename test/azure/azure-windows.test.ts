/**
 * Windows application servers on Azure: custom images (managed image / shared image gallery),
 * install commands, and the SMB credentials the constructs create (storage key into Key Vault at
 * apply time, read grant for the node identity).
 */
import { Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { AzurePaperCutStack, WINDOWS_INSTALL_COMMANDS } from '../../apps/examples/azure-papercut/stack';
import { EXAMPLE_STACKS } from '../../apps/stacks';
import type { AzureAppServers, AzureAppServersProps } from '../../lib/azure/azure-app-servers';
import { AzureSharedStorage, type AzureSharedStorageProps } from '../../lib/azure/azure-shared-storage';
import { papercut, parseClusterSpec } from '../../lib/spec';
import { azureAppServers, FIXTURE_BINARY, PLACEMENT, VNET_ID, onlyResource, paperCutSpec, propError, resourcesOf, SSH_KEYS, subnetId, synth } from './helpers';

const GALLERY_IMAGE = '/subscriptions/0000/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/print/images/papercut-mf/versions/1.2.0';
const windowsSpec = () => parseClusterSpec({ name: 'pcw', profile: papercut({ os: 'windows' }), storage: { kind: 'smb' } });
/** Windows app servers `nodes` with real parts (an SMB share). */
const nodes = (s: Construct, over: Partial<AzureAppServersProps> = {}): AzureAppServers => azureAppServers(s, { spec: windowsSpec(), ...over });

describe('AzureAppServers on Windows', () => {
  it('boots a custom image (shared image gallery) instead of a marketplace one', () => {
    const { json } = synth((s) => nodes(s, { sourceImageId: GALLERY_IMAGE }));
    const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
    expect(vmss.source_image_id).toBe(GALLERY_IMAGE);
    expect(vmss.source_image_reference).toBeUndefined();
  });

  it('runs the install commands before the boot script', () => {
    // given / when
    let servers!: AzureAppServers;
    synth((s) => (servers = nodes(s, { installCommands: ['choco install -y papercut-mf', 'Write-Host done'] })));
    // then
    expect(servers.bootScript).toMatch(/^\$ErrorActionPreference = 'Stop'\nchoco install -y papercut-mf\nWrite-Host done\n# failover-constructs boot script/);
  });

  it('runs Linux install commands after the shebang, stopping at the first failure', () => {
    let servers!: AzureAppServers;
    synth((s) => (servers = azureAppServers(s, { spec: paperCutSpec(), adminSshPublicKey: SSH_KEYS.ed25519, installCommands: ['apt-get install -y openjdk-17-jre'] })));
    expect(servers.bootScript).toMatch(/^#!\/bin\/bash\n# install commands\nset -euo pipefail\napt-get install -y openjdk-17-jre\n/);
  });

  it.each([
    [{ sourceImageId: GALLERY_IMAGE, image: { publisher: 'p', offer: 'o', sku: 's' } }, 'sourceImageId'],
    [{ sourceImageId: '/subscriptions/0000/images/x' }, 'sourceImageId'],
    [{ installCommands: ['  '] }, 'installCommands[0]'],
  ] as Array<[Partial<AzureAppServersProps>, string]>)('refuses %j naming %s', (over, prop) => {
    expect(() => synth((s) => nodes(s, over))).toThrow(propError('AzureAppServers', prop, 'test/nodes'));
  });
});

describe('AzureSharedStorage SMB credentials', () => {
  const base = (over: Partial<AzureSharedStorageProps> = {}): AzureSharedStorageProps => ({
    ...PLACEMENT,
    spec: windowsSpec(),
    privateEndpointSubnetId: subnetId('pe'),
    clientSubnetId: subnetId('app'),
    virtualNetworkId: VNET_ID,
    createPrivateDnsZone: true,
    ...over,
  });

  it('writes the storage key into Key Vault at apply time and lets the nodes read it', () => {
    // given / when
    let share!: AzureSharedStorage;
    const { json } = synth((s) => (share = new AzureSharedStorage(s, 'files', base({ keyVaultId: 'kv-id', readerPrincipalId: 'nodes-principal' }))));
    // then
    const secret = onlyResource(json, 'azurerm_key_vault_secret');
    expect(secret).toMatchObject({ name: 'pcw-smb-credentials', key_vault_id: 'kv-id' });
    expect(secret.value).toBeUndefined();
    expect(secret.value_wo_version).toBe(1);
    expect(secret.value_wo).toContain('"username" = "localhost\\\\pcwfs${substr(md5(');
    expect(secret.value_wo).toMatch(/"password" = azurerm_storage_account\.files_account_[0-9A-F]+\.primary_access_key\}\)\}$/);
    const grant = onlyResource(json, 'azurerm_role_assignment');
    expect(grant).toMatchObject({ role_definition_name: 'Key Vault Secrets User', principal_id: 'nodes-principal' });
    expect(grant.scope).toMatch(/azurerm_key_vault_secret\.files_smb-credentials_[0-9A-F]+\.resource_versionless_id/);
    expect(share.mount).toMatchObject({ kind: 'smb', credentialsSecretRef: expect.stringMatching(/^azure-keyvault:\$\{TfToken\[/) });
    expect(onlyResource(json, 'azurerm_storage_account').shared_access_key_enabled).toBe(true);
  });

  it('uses a given Key Vault credential as is, and creates nothing', () => {
    const spec = parseClusterSpec({ name: 'pcw', profile: papercut({ os: 'windows' }), storage: { kind: 'smb', credentialsSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/smb' } });
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base({ spec })));
    expect(resourcesOf(json, 'azurerm_key_vault_secret')).toHaveLength(0);
  });

  it('needs a vault (or a credential), and a Key Vault credential on Azure, naming the props', () => {
    expect(() => synth((s) => new AzureSharedStorage(s, 'files', base()))).toThrow(propError('AzureSharedStorage', 'keyVaultId'));
    const aws = parseClusterSpec({ name: 'pcw', profile: papercut({ os: 'windows' }), storage: { kind: 'smb', credentialsSecretRef: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x' } });
    expect(() => synth((s) => new AzureSharedStorage(s, 'files', base({ spec: aws })))).toThrow(propError('AzureSharedStorage', 'spec.storage.credentialsSecretRef'));
  });
});

describe('example stack azure-papercut-windows', () => {
  const json = JSON.parse(Testing.synth(new AzurePaperCutStack(Testing.app(), 'azure-papercut-windows', { os: 'windows', binaryPath: FIXTURE_BINARY })));

  it('is registered in EXAMPLE_STACKS', () => {
    expect(Object.keys(EXAMPLE_STACKS)).toContain('azure-papercut-windows');
  });

  it('synthesizes PaperCut on Windows from a custom image with install commands, SMB credentials in Key Vault', () => {
    const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
    expect(vmss.source_image_id).toBe('${var.source_image_id}');
    expect(vmss.source_image_reference).toBeUndefined();
    const bootLocal = Object.entries(json.locals as Record<string, string>).find(([k]) => k.includes('boot-script'))![1];
    expect(bootLocal.startsWith(`$ErrorActionPreference = 'Stop'\n${WINDOWS_INSTALL_COMMANDS.join('\n')}\n`)).toBe(true);
    expect(onlyResource(json, 'azurerm_storage_share').enabled_protocol).toBe('SMB');
    expect(resourcesOf(json, 'azurerm_key_vault_secret').map((s) => s.name).sort()).toEqual(['papercut-db-admin-password', 'papercut-db-papercut-app-password', 'papercut-smb-credentials']);
    const grants = resourcesOf(json, 'azurerm_role_assignment').filter((r) => r.role_definition_name === 'Key Vault Secrets User');
    expect(grants).toHaveLength(3) // admin, app and SMB secrets;
    expect(Object.keys(json.variable)).toContain('source_image_id');
    expect(Object.keys(json.variable)).not.toContain('admin_ssh_public_key');
  });
});
