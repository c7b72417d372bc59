import { TerraformOutput } from 'cdktf';
import { NFS_OPTIONS } from '../../lib/boot';
import { AzureSharedStorage, type AzureSharedStorageProps } from '../../lib/azure/azure-shared-storage';
import { PLACEMENT, VNET_ID, onlyResource, paperCutSpec, resourcesOf, subnetId, synth, propError } from './helpers';

const base = (over: Partial<AzureSharedStorageProps> = {}): AzureSharedStorageProps => ({
  ...PLACEMENT,
  spec: paperCutSpec(),
  privateEndpointSubnetId: subnetId('pe'),
  clientSubnetId: subnetId('app'),
  virtualNetworkId: VNET_ID,
  createPrivateDnsZone: true,
  ...over,
});
const SMB_SPEC = () => paperCutSpec({ storage: { kind: 'smb', credentialsSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/smb' } });

describe('AzureSharedStorage', () => {
  it('builds a private premium FileStorage account with an NFS share (secure transfer off only for NFS)', () => {
    // given / when
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base()));

    // then
    expect(onlyResource(json, 'azurerm_storage_account')).toMatchObject({
      account_kind: 'FileStorage',
      account_tier: 'Premium',
      account_replication_type: 'ZRS',
      min_tls_version: 'TLS1_2',
      allow_nested_items_to_be_public: false,
      public_network_access_enabled: false,
      https_traffic_only_enabled: false,
      shared_access_key_enabled: false,
      network_rules: { default_action: 'Deny', bypass: ['AzureServices'] },
    });
    expect(onlyResource(json, 'azurerm_storage_share')).toMatchObject({ name: 'failover', quota: 100, enabled_protocol: 'NFS' });
  });

  it('reaches the account only through a private endpoint with the privatelink.file zone', () => {
    // given / when
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base()));

    // then
    const pe = onlyResource(json, 'azurerm_private_endpoint');
    expect(pe.subnet_id).toBe(subnetId('pe'));
    expect(pe.private_service_connection).toMatchObject({ subresource_names: ['file'], is_manual_connection: false });
    expect(pe.private_dns_zone_group.private_dns_zone_ids[0]).toContain('azurerm_private_dns_zone');
    expect(onlyResource(json, 'azurerm_private_dns_zone').name).toBe('privatelink.file.core.windows.net');
    expect(onlyResource(json, 'azurerm_private_dns_zone_virtual_network_link').virtual_network_id).toBe(VNET_ID);
  });

  it('builds an SMB share with secure transfer, SMB 3.1.1 and AES-256-GCM, passing the credentials secret to the mount', () => {
    // given / when
    const { json } = synth((s) => {
      const files = new AzureSharedStorage(s, 'files', base({ spec: SMB_SPEC(), storageAccountName: 'pcfiles01' }));
      new TerraformOutput(s, 'mount', { value: files.mount });
    });

    // then
    expect(onlyResource(json, 'azurerm_storage_account')).toMatchObject({
      name: 'pcfiles01',
      https_traffic_only_enabled: true,
      share_properties: { smb: { versions: ['SMB3.1.1'], channel_encryption_type: ['AES-256-GCM'] } },
    });
    expect(onlyResource(json, 'azurerm_storage_share').enabled_protocol).toBe('SMB');
    expect(json.output.mount.value).toEqual({
      kind: 'smb',
      address: '//pcfiles01.file.core.windows.net/failover',
      credentialsSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/smb',
    });
  });

  it('gives the boot script the NFS address account.file.core.windows.net:/account/share', () => {
    // given / when
    const { json } = synth((s) => {
      const files = new AzureSharedStorage(s, 'files', base({ storageAccountName: 'pcfiles01', shareName: 'papercut' }));
      new TerraformOutput(s, 'mount', { value: files.mount });
    });

    // then
    expect(json.output.mount.value).toEqual({
      kind: 'nfs',
      address: 'pcfiles01.file.core.windows.net:/pcfiles01/papercut',
      mountOptions: ['sec=sys', 'nconnect=4'],
    });
  });

  it('uses an existing private DNS zone instead of creating one', () => {
    // given
    const zone = '/subscriptions/0000/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net';

    // when
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base({ privateDnsZoneId: zone, createPrivateDnsZone: undefined, virtualNetworkId: undefined })));

    // then
    expect(resourcesOf(json, 'azurerm_private_dns_zone')).toHaveLength(0);
    expect(onlyResource(json, 'azurerm_private_endpoint').private_dns_zone_group.private_dns_zone_ids).toEqual([zone]);
  });

  it('derives a deterministic global account name from subscription, resource group and cluster', () => {
    // given / when
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base()));

    // then
    expect(onlyResource(json, 'azurerm_storage_account').name).toBe(
      'pcfs${substr(md5(join("/", [data.azurerm_client_config.azurerm-client-config.subscription_id, "rg-test", "pc", "fs"])), 0, 8)}',
    );
  });

  describe('rejects', () => {
    const cases: Array<[string, Partial<AzureSharedStorageProps>, string]> = [
      ['an upper-case account name', { storageAccountName: 'PcFiles' }, 'storageAccountName'],
      ['a bad share name', { shareName: 'a--b' }, 'shareName'],
      ['no private endpoint subnet', { privateEndpointSubnetId: '' }, 'privateEndpointSubnetId'],
      ['no virtual network and no zone', { virtualNetworkId: '' }, 'virtualNetworkId'],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      // given
      const props = base(over);

      // when / then
      expect(() => synth((s) => new AzureSharedStorage(s, 'files', props))).toThrow(propError('AzureSharedStorage', prop));
    });
  });
});

describe('AzureSharedStorage private DNS zone: an existing one, a new one only on request', () => {
  it('with neither an existing zone nor createPrivateDnsZone it refuses, naming privateDnsZoneId (a network links to one privatelink.file zone only)', () => {
    expect(() => synth((s) => new AzureSharedStorage(s, 'files', base({ createPrivateDnsZone: undefined })))).toThrow(propError('AzureSharedStorage', 'privateDnsZoneId'));
  });

  it('refuses both at once, naming createPrivateDnsZone', () => {
    const zone = '/subscriptions/0000/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net';
    expect(() => synth((s) => new AzureSharedStorage(s, 'files', base({ privateDnsZoneId: zone })))).toThrow(propError('AzureSharedStorage', 'createPrivateDnsZone'));
  });

  it('creates and links the zone only when asked', () => {
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base({ createPrivateDnsZone: true })));
    expect(onlyResource(json, 'azurerm_private_dns_zone').name).toBe('privatelink.file.core.windows.net');
    expect(onlyResource(json, 'azurerm_private_dns_zone_virtual_network_link').virtual_network_id).toBe(VNET_ID);
  });

  it('NFS mount options say the version once (the boot script sets nfsvers=4.1)', () => {
    const files = synthFiles();
    const options = [...NFS_OPTIONS, ...((files.mount.kind === 'nfs' && files.mount.mountOptions) || [])];
    expect(options.filter((o) => /^(nfs)?vers=|^minorversion=/.test(o))).toEqual(['nfsvers=4.1']);
  });
});

function synthFiles(): AzureSharedStorage {
  let files!: AzureSharedStorage;
  synth((s) => (files = new AzureSharedStorage(s, 'files', base())));
  return files;
}

describe('AzureSharedStorage: deploy review', () => {
  const nsgOf = (json: Record<string, any>) => resourcesOf(json, 'azurerm_network_security_group').find((g) => g.name === 'pc-files-pe');

  it.each([
    ['NFS', paperCutSpec(), '2049'],
    ['SMB', SMB_SPEC(), '445'],
  ])('%s: only the app servers\' subnet reaches the share, through an NSG on the private endpoint subnet', (_kind, spec, port) => {
    // given / when
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base({ spec })));
    // then: the client subnet's prefixes (read at plan) may, nobody else may
    const clientSubnet = Object.entries(json.data.azurerm_subnet as Record<string, any>).find(([, d]) => d.name === 'app')!;
    expect(clientSubnet[1]).toEqual({ name: 'app', virtual_network_name: 'vnet', resource_group_name: 'rg-net' });
    const [allow, deny] = nsgOf(json)!.security_rule;
    expect(allow).toMatchObject({ access: 'Allow', direction: 'Inbound', protocol: 'Tcp', destination_port_range: port, source_address_prefixes: `\${data.azurerm_subnet.${clientSubnet[0]}.address_prefixes}` });
    expect(deny).toMatchObject({ access: 'Deny', direction: 'Inbound', source_address_prefix: '*', destination_port_range: port });
    expect(deny.priority).toBeGreaterThan(allow.priority);
    const association = onlyResource(json, 'azurerm_subnet_network_security_group_association');
    expect(association.subnet_id).toBe(subnetId('pe'));
    expect(association.network_security_group_id).toMatch(/^\$\{azurerm_network_security_group\./);
    expect(association.lifecycle.precondition[0].error_message).toMatch(/^privateEndpointSubnetId: the subnet has a network security group of its own/);
  });

  it('fails the plan, naming privateEndpointSubnetId, when the subnet\'s private endpoint network policies are off (no NSG would apply)', () => {
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base()));
    const [check] = onlyResource(json, 'azurerm_private_endpoint').lifecycle.precondition;
    expect(check.condition).toMatch(/^\$\{contains\(\["Enabled", "NetworkSecurityGroupEnabled"\], data\.azurerm_subnet\.[\w-]+\.private_endpoint_network_policies\)\}$/);
    expect(check.error_message).toMatch(/^privateEndpointSubnetId: private endpoint network policies are disabled/);
  });

  it('with privateEndpointNetworkSecurityGroup: false creates no NSG and hands over the rules for the user\'s own', () => {
    let files!: AzureSharedStorage;
    const { json } = synth((s) => (files = new AzureSharedStorage(s, 'files', base({ privateEndpointNetworkSecurityGroup: false }))));
    expect(nsgOf(json)).toBeUndefined();
    expect(resourcesOf(json, 'azurerm_subnet_network_security_group_association')).toHaveLength(0);
    expect(files.privateEndpointSecurityRules.map((r) => r.access)).toEqual(['Allow', 'Deny']);
  });

  it('requires clientSubnetId, naming it', () => {
    expect(() => synth((s) => new AzureSharedStorage(s, 'files', base({ clientSubnetId: '' })))).toThrow(propError('AzureSharedStorage', 'clientSubnetId'));
  });
});

describe('AzureSharedStorage backups: deploy review', () => {
  it('SMB: a daily Azure Backup kept 30 days in a Recovery Services vault, and share soft delete, by default', () => {
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base({ spec: SMB_SPEC() })));
    expect(onlyResource(json, 'azurerm_recovery_services_vault')).toMatchObject({ name: 'pc-share-backup', sku: 'Standard', soft_delete_enabled: true });
    expect(onlyResource(json, 'azurerm_backup_policy_file_share')).toMatchObject({ backup: { frequency: 'Daily', time: '02:00' }, retention_daily: { count: 30 } });
    const protectedShare = onlyResource(json, 'azurerm_backup_protected_file_share');
    expect(protectedShare.source_file_share_name).toMatch(/^\$\{azurerm_storage_share\./);
    expect(protectedShare.depends_on[0]).toMatch(/^azurerm_backup_container_storage_account\./);
    expect(onlyResource(json, 'azurerm_storage_account').share_properties.retention_policy).toEqual({ days: 14 });
  });

  it('NFS: share soft delete (Azure Backup takes no NFS shares)', () => {
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base()));
    expect(onlyResource(json, 'azurerm_storage_account').share_properties).toEqual({ retention_policy: { days: 14 } });
    expect(resourcesOf(json, 'azurerm_recovery_services_vault')).toHaveLength(0);
  });

  it('backup: false opts out', () => {
    const { json } = synth((s) => new AzureSharedStorage(s, 'files', base({ spec: SMB_SPEC(), backup: false })));
    expect(resourcesOf(json, 'azurerm_recovery_services_vault')).toHaveLength(0);
    expect(onlyResource(json, 'azurerm_storage_account').share_properties.retention_policy).toBeUndefined();
  });
});
