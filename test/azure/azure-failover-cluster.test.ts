import { TerraformOutput, TerraformVariable } from 'cdktf';
import { AzureFailoverCluster, type AzureFailoverClusterProps } from '../../lib/azure/azure-failover-cluster';
import { custom, papercut, thinprint } from '../../lib/spec';
import { VNET_ID, clusterProps, dependsAfter, onlyResource, resourcesOf, subnetId, synth } from './helpers';

const base = clusterProps;

describe('AzureFailoverCluster', () => {
  // one synth of the default cluster, read by the tests that need nothing else (saves CI time)
  let cluster!: AzureFailoverCluster;
  const plain = synth((s) => (cluster = new AzureFailoverCluster(s, 'cluster', base())));

  it('composes every part and exposes them', () => {
    // given / when
    const { json } = plain;

    // then
    for (const type of ['azurerm_lb', 'azurerm_postgresql_flexible_server', 'azurerm_storage_share', 'azurerm_storage_blob', 'azurerm_linux_virtual_machine_scale_set', 'azurerm_monitor_action_group', 'azurerm_key_vault']) {
      expect(resourcesOf(json, type)).toHaveLength(1);
    }
    expect(resourcesOf(json, 'azurerm_resource_group')).toHaveLength(0);
    expect(cluster.spec.nodeCount).toBe(2);
    expect([cluster.loadBalancer, cluster.database, cluster.storage, cluster.guardAsset, cluster.appServers, cluster.alarms].every(Boolean)).toBe(true);
  });

  it('wires one identity to the scale set, the secret and the blob, and boots the VMs only after the grants', () => {
    // given / when
    const { json } = plain;

    // then
    const identity = Object.keys(json.resource.azurerm_user_assigned_identity);
    expect(identity).toHaveLength(1);
    const principal = `\${azurerm_user_assigned_identity.${identity[0]}.principal_id}`;
    const grants = resourcesOf(json, 'azurerm_role_assignment').filter((r) => r.principal_id === principal);
    // the admin password and the app user's password secrets, and the guard blob
    expect(grants.map((g) => g.role_definition_name).sort()).toEqual(['Key Vault Secrets User', 'Key Vault Secrets User', 'Storage Blob Data Reader']);
    const vmss = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set');
    expect(vmss.identity.identity_ids).toEqual([`\${azurerm_user_assigned_identity.${identity[0]}.id}`]);
    const roleIds = Object.keys(json.resource.azurerm_role_assignment).filter((k) => json.resource.azurerm_role_assignment[k].principal_id === principal);
    for (const id of roleIds) expect(dependsAfter(json, vmss)).toContain(`azurerm_role_assignment.${id}`);
    expect(vmss.depends_on.some((d: string) => d.startsWith('azurerm_private_endpoint.'))).toBe(true);
    expect(vmss.network_interface[0].ip_configuration[0].load_balancer_backend_address_pool_ids[0]).toMatch(/^\$\{azurerm_lb_backend_address_pool\./);
  });

  it('gives the boot script the share, the guard blob, the database and, with floating IP, the frontend IP as loopback VIP', () => {
    // given / when
    const { json } = synth((s) => {
      const c = new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'pc', profile: papercut(), loadBalancer: { floatingIp: true } } }));
      const { share, platform, database, loopbackVip } = c.bootContext;
      new TerraformOutput(s, 'ctx', { value: { share, managedIdentityClientId: platform.managedIdentityClientId, database, loopbackVip, guardDownload: c.bootContext.guardBinary.linux().values } });
    });

    // then
    const ctx = json.output.ctx.value;
    expect(ctx.share.kind).toBe('nfs');
    expect(ctx.managedIdentityClientId).toMatch(/azurerm_user_assigned_identity\..*\.client_id/);
    expect(ctx.guardDownload).toMatch(/^GUARD_BLOB_URL='\$\{azurerm_storage_blob\./);
    expect(ctx.database.passwordSource).toMatch(/^azure-keyvault:\$\{azurerm_key_vault_secret\./);
    expect(ctx.loopbackVip).toMatch(/^\$\{azurerm_lb\.[\w-]+\.frontend_ip_configuration\[0\]\.private_ip_address\}$/);
  });

  it('creates the resource group when asked and puts everything in it', () => {
    // given / when
    const { json } = synth((s) => new AzureFailoverCluster(s, 'cluster', base({ createResourceGroup: true })));

    // then
    const rg = onlyResource(json, 'azurerm_resource_group');
    expect(rg).toMatchObject({ name: 'rg-test', location: 'westeurope' });
    expect(onlyResource(json, 'azurerm_lb').resource_group_name).toMatch(/^\$\{azurerm_resource_group\./);
  });

  it('builds a Windows cluster with the win-x64 guard and an SMB share', () => {
    // given / when
    const { json } = synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'pcw', profile: papercut({ os: 'windows' }) }, adminSshPublicKey: undefined })));

    // then
    expect(resourcesOf(json, 'azurerm_windows_virtual_machine_scale_set')).toHaveLength(1);
    expect(onlyResource(json, 'azurerm_storage_share').enabled_protocol).toBe('SMB');
  });

  describe('security of the whole synthesized cluster', () => {
    const { json, text } = plain;

    it('opens nothing to the Internet or to any source', () => {
      const rules = resourcesOf(json, 'azurerm_network_security_group').flatMap((g) => g.security_rule);
      const allows = rules.filter((r: any) => r.access === 'Allow');
      for (const r of allows) {
        expect([r.source_address_prefix, ...(r.source_address_prefixes ?? [])]).not.toContain('*');
        expect([r.source_address_prefix, ...(r.source_address_prefixes ?? [])]).not.toContain('Internet');
        expect([r.source_address_prefix, ...(r.source_address_prefixes ?? [])]).not.toContain('0.0.0.0/0');
      }
      expect(resourcesOf(json, 'azurerm_public_ip')).toHaveLength(0);
      expect(onlyResource(json, 'azurerm_postgresql_flexible_server').public_network_access_enabled).toBe(false);
    });

    it('contains no password or key material', () => {
      expect(text).not.toMatch(/"(administrator_password|admin_password|password)"\s*:/);
      for (const secret of resourcesOf(json, 'azurerm_key_vault_secret')) expect(secret.value).toBeUndefined();
      expect(text).not.toMatch(/PRIVATE KEY/);
      expect(onlyResource(json, 'azurerm_linux_virtual_machine_scale_set').disable_password_authentication).toBe(true);
    });

    it('requires TLS 1.2 and private access on every storage account, and no shared keys where none are needed', () => {
      for (const a of resourcesOf(json, 'azurerm_storage_account')) {
        expect(a.min_tls_version).toBe('TLS1_2');
        expect(a.allow_nested_items_to_be_public).toBe(false);
        expect(a.shared_access_key_enabled).toBe(false);
      }
    });

    it('protects the key vault (purge protection, RBAC)', () => {
      expect(onlyResource(json, 'azurerm_key_vault')).toMatchObject({ purge_protection_enabled: true, rbac_authorization_enabled: true });
    });
  });

  describe('rejects, before creating anything', () => {
    it('an invalid spec, named by the construct path and spec.<field>', () => {
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'PC', profile: papercut() } })))).toThrow(/^test\/cluster is invalid:\n  - spec\.name: /);
    });

    it('bad spec fields and bad props together in one error', () => {
      // given
      const spec = { name: 'PC', profile: papercut(), nodeCount: 1 };
      // when / then
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec, appSubnetId: 'papercut-app', fileStorageAccountName: 'Bad_Name' })))).toThrow(
        /^test\/cluster is invalid:\n  - spec\.name: [^\n]*\n  - spec\.nodeCount: [^\n]*\n  - fileStorageAccountName: [^\n]*\n  - appSubnetId: "papercut-app" is not a subnet resource id/,
      );
    });

    it.each([
      ['virtualNetworkId', { virtualNetworkId: subnetId('app') }, 'is not a virtual network resource id'],
      ['appSubnetId', { appSubnetId: VNET_ID }, 'is not a subnet resource id'],
      ['database.delegatedSubnetId', { database: { delegatedSubnetId: 'db' } }, 'is not a subnet resource id'],
      ['privateEndpointSubnetId', { privateEndpointSubnetId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/pe' }, 'is not a subnet resource id'],
    ] as const)('a literal %s of the wrong shape, naming it', (prop, over, message) => {
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base(over)))).toThrow(new RegExp(`^test/cluster is invalid:\n  - ${prop}: "[^"]*" ${message}`));
    });

    it('network ids given as tokens pass the shape check', () => {
      expect(() =>
        synth((s) => new AzureFailoverCluster(s, 'cluster', base({ appSubnetId: new TerraformVariable(s, 'app_subnet', { type: 'string' }).stringValue }))),
      ).not.toThrow();
    });

    it('a DNS-mode profile, saying why (a scale set behind a load balancer) and what to use (AzureDnsCluster, or ThinPrint single-active)', () => {
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'tp', profile: { ...thinprint(), failoverMode: 'dns', clusterMode: undefined } } })))).toThrow(
        /- spec\.profile\.failoverMode: "dns" profiles are not built by AzureFailoverCluster: its nodes are a guard-managed scale set behind a load balancer\. .*AzureDnsCluster.*ThinPrint runs "single-active" on Azure/,
      );
    });
    it('ThinPrint dns-multicast: Azure carries no multicast, naming spec.profile.clusterMode', () => {
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) } })))).toThrow(/- spec\.profile\.clusterMode: Azure virtual networks carry no multicast/);
    });
    it('client keys as a literal in code, or for another app', () => {
      const keys = '{"clients":[{"id":"66","key":"666"}]}';
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'tp', profile: thinprint() }, adminSshPublicKey: undefined, thinprint: { clientKeysValue: keys } })))).toThrow(/- thinprint\.clientKeysValue: must come from a sensitive Terraform variable/);
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ thinprint: { clientKeysValue: new TerraformVariable(s, 'k', { sensitive: true }).stringValue } })))).toThrow(/- thinprint: only for the ThinPrint profile \(this is PaperCut/);
    });

    it('the boot script\'s spec checks, with the rest, by the cluster path', () => {
      const profile = custom({ displayName: 'Acme', os: 'linux', ports: [{ name: 'http', port: 8080 }], installDir: '/opt/acme', serviceName: 'acme', readiness: { kind: 'tcp', port: 8080 } });
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'pc', profile, notificationEmails: ['ops@example.com'] }, appSubnetId: 'app' })))).toThrow(
        /^test\/cluster is invalid:\n[\s\S]*- appSubnetId: [\s\S]*- spec\.profile\.serviceName: must be a systemd service unit name/,
      );
    });
    it('a missing guard binary, naming binaryPath', () => {
      expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ binaryPath: '/nonexistent/guard' })))).toThrow(/- binaryPath: no guard binary at \/nonexistent\/guard/);
    });

    it('every bad prop at once, under the cluster\'s prop names', () => {
      // given
      const props = base({ appSubnetId: '', database: undefined, fileStorageAccountName: 'Bad_Name', adminSshPublicKey: undefined });

      // when
      let message = '';
      const { json } = (() => {
        try {
          return synth((s) => new AzureFailoverCluster(s, 'cluster', props));
        } catch (e) {
          message = (e as Error).message;
          return { json: undefined };
        }
      })();

      // then
      expect(json).toBeUndefined();
      for (const prop of ['appSubnetId', 'database.delegatedSubnetId', 'fileStorageAccountName', 'adminSshPublicKey']) expect(message).toContain(`- ${prop}: `);
    });
  });

  describe('ThinPrint single-active', () => {
    const tpBase = (over: Partial<AzureFailoverClusterProps> = {}) => base({ spec: { name: 'tp', profile: thinprint() }, adminSshPublicKey: undefined, ...over });

    it('a Key Vault secret (write-only value) the nodes alone may read, granted before the VMs boot, named in the boot script', () => {
      // given / when
      let cluster!: AzureFailoverCluster;
      const { json } = synth((s) => {
        const keys = new TerraformVariable(s, 'keys', { type: 'string', sensitive: true });
        cluster = new AzureFailoverCluster(s, 'cluster', tpBase({ thinprint: { clientKeysValue: keys.stringValue } }));
      });
      // then
      const secret = resourcesOf(json, 'azurerm_key_vault_secret').find((x) => x.name === 'tp-thinprint-clients')!;
      expect(secret).toMatchObject({ value_wo: '${var.keys}', value_wo_version: 1 });
      expect(secret.value).toBeUndefined();
      expect(secret.key_vault_id).toContain('azurerm_key_vault.');
      const reader = resourcesOf(json, 'azurerm_role_assignment').find((r) => String(r.scope).includes('thinprint-client-keys'))!;
      expect(reader).toMatchObject({ role_definition_name: 'Key Vault Secrets User' });
      expect(reader.principal_id).toContain('azurerm_user_assigned_identity.');
      const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
      expect([...dependsAfter(json, vmss)].some((d: string) => d.includes('thinprint-client-keys_reader'))).toBe(true);
      expect(cluster.appServers.bootScript).toContain(`$TpClientKeysSecretRef = 'azure-keyvault:`);
      expect(cluster.appServers.bootScript).toContain("Invoke-Step 'configure the ThinPrint Connection Service node'");
      expect(cluster.appServers.bootScript).not.toMatch(/MCastNode|IGMPVersion/);
    });

    it('the same guard machinery as PaperCut: probe on the guard, a rule per ThinPrint port, repairs on /live, no node-to-node rule', () => {
      // given / when
      const { json } = synth((s) => new AzureFailoverCluster(s, 'cluster', tpBase()));
      const pc = synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'tp', profile: papercut({ os: 'windows' }) }, adminSshPublicKey: undefined }))).json;
      // then
      const probe = onlyResource(json, 'azurerm_lb_probe');
      const { name: _n, ...probeSettings } = probe;
      const { name: _m, ...paperCutProbe } = onlyResource(pc, 'azurerm_lb_probe');
      expect(probeSettings).toEqual(paperCutProbe);
      expect(probe).toMatchObject({ protocol: 'Http', port: 9180, request_path: '/health' });
      expect(resourcesOf(json, 'azurerm_lb_rule').map((r) => r.frontend_port).sort()).toEqual([4000, 4001, 4002]);
      const health = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set').extension.find((e: any) => e.name === 'guard-live');
      expect(JSON.parse(health.settings)).toMatchObject({ port: 9180, requestPath: '/live' });
      // the guard's timings, as written into its config, are PaperCut's
      // the startup timeout differs on purpose: PaperCut's also covers its hooks (ThinPrint has none)
      const guardLines = (text: string) => text.split('\n').filter((l) => /high-availability-guard\.|health\./.test(l) && !l.includes('startup-timeout-secs'));
      const tpScript = (Object.values(json.locals).find((v) => String(v).includes('TPConnectionService')) as string) ?? '';
      const pcScript = (Object.values(pc.locals).find((v) => String(v).includes('PCAppServer')) as string) ?? '';
      expect(guardLines(tpScript).length).toBeGreaterThan(3);
      expect(guardLines(tpScript)).toEqual(guardLines(pcScript));
      // single-active: one node serves, so no node-to-node rule is opened
      const rules = resourcesOf(json, 'azurerm_network_security_group').find((g) => String(g.name).endsWith('-nodes'))!.security_rule;
      expect(rules.map((r: any) => r.name)).toEqual(['allow-clients-app-ports', 'allow-lb-probe-guard', 'deny-all-other-inbound']);
    });

    it('DMZ alias: an optional A record for the load balancer frontend, TTL 30', () => {
      const none = synth((s) => new AzureFailoverCluster(s, 'cluster', tpBase())).json;
      expect(resourcesOf(none, 'azurerm_dns_a_record')).toHaveLength(0);
      const { json } = synth((s) => new AzureFailoverCluster(s, 'cluster', tpBase({ dmzAlias: { zoneName: 'example.com', resourceGroupName: 'dns', name: 'print' } })));
      const record = onlyResource(json, 'azurerm_dns_a_record');
      expect(record).toMatchObject({ zone_name: 'example.com', resource_group_name: 'dns', name: 'print', ttl: 30 });
      expect(record.records[0]).toContain('azurerm_lb.');
    });
  });
});

describe('AzureFailoverCluster: subnets outside virtualNetworkId (deploy review)', () => {
  const OTHER_VNET = '/subscriptions/0000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/other';
  it.each([
    ['database.delegatedSubnetId', { database: { delegatedSubnetId: `${OTHER_VNET}/subnets/x` } }],
    ['appSubnetId', { appSubnetId: `${OTHER_VNET}/subnets/x` }],
    ['privateEndpointSubnetId', { privateEndpointSubnetId: `${OTHER_VNET}/subnets/x` }],
  ] as const)('rejects a %s in another virtual network, naming it', (prop, over) => {
    expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base(over)))).toThrow(
      new RegExp(`- ${prop}: ".*/virtualNetworks/other/subnets/x" is not a subnet of virtualNetworkId`),
    );
  });

  it('accepts the subnets of virtualNetworkId whatever the letter case Azure returns', () => {
    expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ database: { delegatedSubnetId: subnetId('db').replace('/resourceGroups/', '/resourcegroups/') } })))).not.toThrow();
  });
});

describe('AzureFailoverCluster: deploy review', () => {
  const { json } = synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec: { name: 'pc', profile: papercut({ os: 'windows' }), storage: { kind: 'smb' }, notificationEmails: ['ops@example.com'] }, adminSshPublicKey: undefined })));
  const sleeps = json.resource.time_sleep as Record<string, any>;
  const sleepOf = (address: string) => Object.entries(sleeps).filter(([, r]) => (r.depends_on as string[]).includes(address)).map(([name]) => `time_sleep.${name}`);
  const roleAddress = (role: string, principal: RegExp) => {
    const [name] = Object.entries(json.resource.azurerm_role_assignment as Record<string, any>).find(([, r]) => r.role_definition_name === role && principal.test(r.principal_id))!;
    return `azurerm_role_assignment.${name}`;
  };
  const deployer = /azurerm_client_config/;

  it('requires Terraform ≥ 1.11 on its stack (write-only arguments), so an older CLI stops at init', () => {
    expect(json.terraform.required_version).toBe('>= 1.11.0');
  });

  it('declares hashicorp/time and waits in the plan after the role assignments (RBAC propagation), so one apply succeeds', () => {
    expect(json.terraform.required_providers.time).toEqual({ source: 'hashicorp/time', version: '~> 0.12' });
    expect(Object.values(sleeps).every((r) => r.create_duration === '120s')).toBe(true);
  });

  it('writes every Key Vault secret only after the deployer\'s Secrets Officer role has propagated', () => {
    const wait = sleepOf(roleAddress('Key Vault Secrets Officer', deployer));
    expect(wait).toHaveLength(1);
    const secrets = resourcesOf(json, 'azurerm_key_vault_secret');
    // the admin and app user passwords, the SMB credentials
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    for (const secret of secrets) expect(dependsAfter(json, secret)).toContain(wait[0]);
  });

  it('uploads the guard blob only after the deployer\'s Blob Data Contributor role has propagated', () => {
    const wait = sleepOf(roleAddress('Storage Blob Data Contributor', deployer));
    expect(wait).toHaveLength(1);
    expect(dependsAfter(json, onlyResource(json, 'azurerm_storage_blob'))).toContain(wait[0]);
  });

  it('boots the nodes only after the new file private DNS zone is linked to the network (else the mount resolves the public address)', () => {
    const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
    const [link] = Object.keys(json.resource.azurerm_private_dns_zone_virtual_network_link).filter((k) => k.includes('file-share'));
    expect(vmss.depends_on).toContain(`azurerm_private_dns_zone_virtual_network_link.${link}`);
  });

  it('boots the nodes only after their own grants have propagated', () => {
    const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
    const readers = Object.entries(json.resource.azurerm_role_assignment as Record<string, any>).filter(([, r]) => /azurerm_user_assigned_identity/.test(r.principal_id));
    expect(readers.length).toBeGreaterThanOrEqual(3);
    for (const [name] of readers) {
      const wait = sleepOf(`azurerm_role_assignment.${name}`);
      expect(wait).toHaveLength(1);
      expect(vmss.depends_on).toContain(wait[0]);
    }
  });
});

describe('AzureFailoverCluster file private DNS zone', () => {
  it('needs filePrivateDnsZoneId or createFilePrivateDnsZone, named as the cluster calls them', () => {
    expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ createFilePrivateDnsZone: undefined })))).toThrow(/- filePrivateDnsZoneId: required: .*, or set createFilePrivateDnsZone: true/);
  });

  it('uses the given zone and creates none', () => {
    const zone = '/subscriptions/0000/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net';
    const { json } = synth((s) => new AzureFailoverCluster(s, 'cluster', base({ createFilePrivateDnsZone: undefined, filePrivateDnsZoneId: zone })));
    expect(resourcesOf(json, 'azurerm_private_dns_zone').map((z) => z.name)).not.toContain('privatelink.file.core.windows.net');
    expect(onlyResource(json, 'azurerm_private_endpoint').private_dns_zone_group.private_dns_zone_ids).toEqual([zone]);
  });
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
    synth((s) => (existing = new AzureFailoverCluster(s, 'cluster', base({ spec, database: undefined }))));
    expect([existing.databaseHost, existing.databasePort, existing.databaseId]).toEqual(['db.corp.example.com', 6432, undefined]);
  });

  it('an existing database with a profile that has its own database user (PaperCut) is refused up front, naming spec.database.existing', () => {
    const spec = { name: 'pc', profile: papercut(), notificationEmails: ['ops@example.com'], database: { engine: 'postgres' as const, existing: { host: 'db.corp.example.com', username: 'guard', passwordSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/db' } } };
    expect(() => synth((s) => new AzureFailoverCluster(s, 'cluster', base({ spec, database: undefined })))).toThrow(/^test\/cluster is invalid:[\s\S]*- spec\.database\.existing: PaperCut MF's own database user "papercut_app" keeps its password in the Key Vault/);
  });
});
