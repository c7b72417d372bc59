import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import { AzureAppServers, type AzureAppServersProps } from '../../lib/azure/azure-app-servers';
import { AZURE_SCHEDULED_EVENTS_WATCH } from '../../lib/azure/azure-node-platform';
import { escapeTemplateLiterals } from '../../lib/synth/terraform-template';
import { papercut, parseClusterSpec, thinprint } from '../../lib/spec';
import { createHash } from 'crypto';
import { azureAppServers, onlyResource, paperCutSpec, resourcesOf, subnetId, synth, propError, SSH_KEYS } from './helpers';

const SSH_KEY = SSH_KEYS.ed25519;
/** App servers `nodes` with real parts for their spec. */
const build = (s: Construct, over: Partial<AzureAppServersProps> = {}): AzureAppServers => azureAppServers(s, over);
/** App servers `nodes` given props only they check: the parts are a valid PaperCut cluster's. */
const refused = (over: Partial<AzureAppServersProps>) => () => synth((s) => azureAppServers(s, over, { partsSpec: paperCutSpec() }));
/** App servers `nodes`, and what `read` takes off them as Terraform gets it (references, not tokens). */
function synthRead(over: Partial<AzureAppServersProps>, read: (nodes: AzureAppServers) => unknown): { json: Record<string, any>; nodes: AzureAppServers; value: any } {
  let nodes!: AzureAppServers;
  const { json } = synth((s) => {
    nodes = build(s, over);
    new TerraformOutput(s, 'read', { value: read(nodes) });
  });
  return { json, nodes, value: json.output.read.value };
}
const windowsSpec = () => parseClusterSpec({ name: 'pcw', profile: papercut({ os: 'windows' }), storage: { kind: 'smb' } });

describe('AzureAppServers', () => {
  it('builds a fixed-size Linux scale set across zones, SSH key only, no overprovisioning, in the LB pool', () => {
    // given / when
    const { json } = synth((s) => build(s));

    // then
    const vmss = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set');
    expect(vmss).toMatchObject({
      instances: 2,
      zones: ['1', '2', '3'],
      disable_password_authentication: true,
      admin_ssh_key: [{ username: 'fcadmin', public_key: SSH_KEY }],
      overprovision: false,
      upgrade_mode: 'Rolling',
      identity: { type: 'UserAssigned' },
    });
    expect(vmss.admin_password).toBeUndefined();
    expect(vmss.network_interface[0].ip_configuration[0]).toMatchObject({ subnet_id: subnetId('app'), load_balancer_backend_address_pool_ids: [expect.stringMatching(/^\$\{azurerm_lb_backend_address_pool\./)] });
    expect(vmss.identity.identity_ids[0]).toContain('azurerm_user_assigned_identity');
  });

  it('builds the boot context from the parts, as AzureFailoverCluster did: identity, share, guard blob, database, LB address', () => {
    // given / when
    const { nodes, value } = synthRead({}, ({ bootContext: c }) => ({
      clientId: c.platform.managedIdentityClientId,
      share: c.share,
      guardDownload: c.guardBinary.linux().values,
      database: c.database,
      app: c.app,
    }));

    // then
    const ctx = nodes.bootContext;
    expect(ctx.mode).toBe('guard');
    expect(value.clientId).toBe('${azurerm_user_assigned_identity.nodes-identity.client_id}');
    expect(value.share).toMatchObject({ kind: 'nfs', address: expect.stringMatching(/\.file\.core\.windows\.net:\//) });
    expect(value.guardDownload).toMatch(/^GUARD_BLOB_URL='\$\{azurerm_storage_blob\.nodes-guard/);
    expect(value.database.passwordSource).toMatch(/^azure-keyvault:\$\{azurerm_key_vault_secret\.nodes-db_admin-password-secret/);
    expect(value.app.database.passwordSource).toMatch(/^azure-keyvault:\$\{azurerm_key_vault_secret\.nodes-db_app-password-secret/);
    expect(ctx.loopbackVip).toBeUndefined();
    expect(ctx.thinprint).toBeUndefined();
    expect(ctx.replacement).toBe(AZURE_SCHEDULED_EVENTS_WATCH);
    expect(nodes.bootScript).toContain('step "install the lifecycle watcher"');
  });

  it('tells the app the load balancer frontend address, or the networkAddress given, and floats the VIP on loopback with floatingIp', () => {
    // given / when
    const frontend = /^\$\{azurerm_lb\.nodes-lb[\w-]*\.frontend_ip_configuration\[0\]\.private_ip_address\}$/;
    const plain = synthRead({}, (n) => ({ address: n.bootContext.app?.networkAddress, vip: n.bootContext.loopbackVip ?? 'none' }));
    const named = synthRead({ networkAddress: 'print.example.com' }, (n) => n.bootContext.app?.networkAddress);
    const floating = synthRead({ spec: paperCutSpec({ loadBalancer: { floatingIp: true } }) }, (n) => n.bootContext.loopbackVip);

    // then
    expect(plain.value).toEqual({ address: expect.stringMatching(frontend), vip: 'none' });
    expect(named.value).toBe('print.example.com');
    expect(named.nodes.bootScript).toContain("app.network-address=print.example.com");
    expect(floating.value).toMatch(frontend);
  });

  it('repairs instances only on the guard /live (Application Health extension on 9180), never on /health', () => {
    // given / when
    const { json, text } = synth((s) => build(s));

    // then
    const vmss = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set');
    expect(vmss.automatic_instance_repair).toEqual({ enabled: true, grace_period: 'PT30M', action: 'Replace' });
    expect(vmss.health_probe_id).toBeUndefined();
    const ext = vmss.extension.find((e: any) => e.type === 'ApplicationHealthLinux');
    expect(JSON.parse(ext.settings)).toMatchObject({ protocol: 'http', port: 9180, requestPath: '/live' });
    expect(text).not.toContain('requestPath\\":\\"/health');
  });

  it('renders custom data from lib/boot, kept literal in a local and base64-encoded by Terraform', () => {
    // given / when
    const { json, value } = synthRead({}, (n) => escapeTemplateLiterals(n.bootScript));

    // then
    const local = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set').custom_data.match(/^\$\{base64encode\(local\.([\w-]+)\)\}$/)[1];
    expect(json.locals[local]).toBe(value);
    expect(json.locals[local]).toMatch(/database\.password-source=azure-keyvault:\$\{azurerm_key_vault_secret\.[\w-]+admin-password-secret[\w-]*\.versionless_id\}/);
  });

  it('admits app ports from the virtual network, the guard port from the LB probe, and denies the rest', () => {
    // given / when
    const { json } = synth((s) => build(s));

    // then
    const rules = onlyResource(json, 'azurerm_network_security_group').security_rule;
    expect(rules.map((r: any) => [r.priority, r.access, r.source_address_prefix ?? r.source_address_prefixes, r.destination_port_range ?? r.destination_port_ranges])).toEqual([
      [100, 'Allow', 'VirtualNetwork', ['9191', '9192', '9193']],
      [110, 'Allow', 'AzureLoadBalancer', '9180'],
      [4096, 'Deny', '*', '*'],
    ]);
    expect(onlyResource(json, 'azurerm_linux_virtual_machine_scale_set').network_interface[0].network_security_group_id).toContain('azurerm_network_security_group');
  });

  it('admits the app ports from allowedCidrs, or from the Internet only for a public scheme', () => {
    // given
    const cidrs = paperCutSpec({ loadBalancer: { allowedCidrs: ['10.20.0.0/16'] } });
    const pub = paperCutSpec({ loadBalancer: { scheme: 'public' } });

    // when
    const a = synth((s) => build(s, { spec: cidrs })).json;
    const b = synth((s) => build(s, { spec: pub })).json;

    // then
    expect(onlyResource(a, 'azurerm_network_security_group').security_rule[0].source_address_prefixes).toEqual(['10.20.0.0/16']);
    expect(onlyResource(b, 'azurerm_network_security_group').security_rule[0].source_address_prefix).toBe('Internet');
  });

  it('uses a given identity and waits for the given dependencies', () => {
    // given / when
    const { json } = synth((s) => {
      const first = azureAppServers(s, {}, { id: 'a' });
      azureAppServers(s, { spec: paperCutSpec({ name: 'pc2' }), identity: first.identity, dependsOn: [first.networkSecurityGroup] }, { id: 'b' });
    });

    // then
    expect(resourcesOf(json, 'azurerm_user_assigned_identity')).toHaveLength(1);
    const second = resourcesOf(json, 'azurerm_linux_virtual_machine_scale_set').find((v) => v.name === 'pc2-nodes')!;
    expect(second.depends_on).toEqual([expect.stringMatching(/^azurerm_network_security_group\./)]);
  });

  it('builds a Windows scale set that runs the custom data with the Custom Script extension and a generated, ignored admin password', () => {
    // given / when
    const { json } = synth((s) => build(s, { spec: windowsSpec() }));

    // then
    const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
    expect(vmss.admin_password).toBe('${join("", [upper(uuid()), uuid()])}');
    expect(vmss.lifecycle).toEqual({ ignore_changes: ['admin_password'] });
    expect(vmss.extension.map((e: any) => e.type)).toEqual(['CustomScriptExtension', 'ApplicationHealthWindows']);
    expect(vmss.custom_data).not.toContain('<powershell>');
  });

  describe('rejects', () => {
    const cases: Array<[string, Partial<AzureAppServersProps>, string]> = [
      ['Linux without an SSH key', { adminSshPublicKey: undefined }, 'adminSshPublicKey'],
      ['an SSH key that is not OpenSSH', { adminSshPublicKey: '-----BEGIN PUBLIC KEY-----' }, 'adminSshPublicKey'],
      ['an SSH key on Windows', { spec: windowsSpec(), adminSshPublicKey: SSH_KEY }, 'adminSshPublicKey'],
      ['a Windows password on Linux', { windowsAdminPassword: 'x' }, 'windowsAdminPassword'],
      ['a repair grace period of 5 minutes', { repairGracePeriodMinutes: 5 }, 'repairGracePeriodMinutes'],
      ['no zones', { zones: [] }, 'zones'],
      ['no subnet', { subnetId: '' }, 'subnetId'],
      ['a bad admin user name', { adminUsername: 'Admin User' }, 'adminUsername'],
      ['a DNS-mode profile', { spec: parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }), adminSshPublicKey: undefined }, 'spec.profile.failoverMode'],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      expect(refused(over)).toThrow(propError('AzureAppServers', prop, 'test/nodes'));
    });
  });
});

describe('AzureAppServers: rolling upgrades, SSH keys, custom data size', () => {
  it('rolls a new model out by itself: surge new VMs first, old ones get a Terminate notice long enough to hand over', () => {
    // given / when
    let nodes!: AzureAppServers;
    const { json } = synth((s) => (nodes = build(s)));
    // then
    const vmss = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set');
    expect(vmss.upgrade_mode).toBe('Rolling');
    expect(vmss.rolling_upgrade_policy).toMatchObject({ maximum_surge_instances_enabled: true, cross_zone_upgrades_enabled: true, max_unhealthy_upgraded_instance_percent: 0 });
    expect(vmss.termination_notification).toEqual({ enabled: true, timeout: `PT${nodes.handoverTimeoutMinutes}M` });
    expect(nodes.handoverTimeoutMinutes).toBeGreaterThanOrEqual(5);
    // the node side: the boot script installs the watcher for the Terminate event
    expect(nodes.bootScript).toContain('step "install the lifecycle watcher"');
    expect(nodes.bootScript).toContain('metadata/scheduledevents');
    // Rolling needs a health signal: the Application Health extension on /live is there
    expect(vmss.extension.map((e: any) => e.type)).toContain('ApplicationHealthLinux');
  });

  it.each([
    ['an ECDSA key (Azure takes RSA and Ed25519 only)', SSH_KEYS.ecdsa256, /Azure rejects "ecdsa-sha2-nistp256" keys/],
    ['a 1024-bit RSA key', SSH_KEYS.rsa1024, /this RSA key has 1024 bits/],
    ['a key whose data is not its type', `ssh-rsa ${SSH_KEYS.ed25519.split(' ')[1]}`, /does not match its type/],
  ])('rejects %s, naming adminSshPublicKey', (_what, key, message) => {
    expect(refused({ adminSshPublicKey: key })).toThrow(propError('AzureAppServers', 'adminSshPublicKey', 'test/nodes'));
    expect(refused({ adminSshPublicKey: key })).toThrow(message);
  });

  it('accepts RSA 2048 and Ed25519 keys', () => {
    for (const key of [SSH_KEYS.rsa2048, SSH_KEYS.ed25519]) expect(() => synth((s) => build(s, { adminSshPublicKey: key }))).not.toThrow();
  });

  it('custom data over 64 KB fails at synth, naming the prop', () => {
    // given: install commands that blow the script up (random text)
    const noise = Array.from({ length: 1200 }, (_, i) => `echo x-noise.${i}=${createHash('sha256').update(String(i)).digest('hex')}`);
    // when / then
    expect(refused({ installCommands: noise })).toThrow(/- installCommands: makes the custom data \d+ bytes .*over its limit of 65535/);
  });
});

describe('AzureAppServers: deploy review', () => {
  const MANAGED_IMAGE = '/subscriptions/0000/resourceGroups/rg-img/providers/Microsoft.Compute/images/papercut-mf';

  it('rejects a managed image with Trusted Launch (Azure refuses it) at synth, naming sourceImageId', () => {
    expect(refused({ sourceImageId: MANAGED_IMAGE })).toThrow(propError('AzureAppServers', 'sourceImageId', 'test/nodes'));
    expect(refused({ sourceImageId: MANAGED_IMAGE })).toThrow(/Trusted Launch/);
  });

  it('boots a managed image with trustedLaunch: false (no secure boot, no vTPM), a gallery image with them', () => {
    const managed = onlyResource(synth((s) => build(s, { sourceImageId: MANAGED_IMAGE, trustedLaunch: false })).json, 'azurerm_linux_virtual_machine_scale_set');
    expect(managed).toMatchObject({ source_image_id: MANAGED_IMAGE, secure_boot_enabled: false, vtpm_enabled: false });
    const gallery = `/subscriptions/0000/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/print/images/papercut-mf`;
    const trusted = onlyResource(synth((s) => build(s, { sourceImageId: gallery })).json, 'azurerm_linux_virtual_machine_scale_set');
    expect(trusted).toMatchObject({ source_image_id: gallery, secure_boot_enabled: true, vtpm_enabled: true });
  });

  it.each([
    [2, 50],
    [3, 33],
    [4, 25],
  ])('upgrades one node of %i per batch (%i %%), with surge: an in-place fallback never takes every node', (nodeCount, percent) => {
    // given / when
    const { json } = synth((s) => build(s, { spec: paperCutSpec({ nodeCount }) }));
    // then
    const policy = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set').rolling_upgrade_policy;
    expect(policy).toMatchObject({ max_batch_instance_percent: percent, maximum_surge_instances_enabled: true });
    // a batch holds fewer than two nodes however Azure rounds (it takes at least one)
    expect((policy.max_batch_instance_percent * nodeCount) / 100).toBeLessThan(2);
  });
});

describe('AzureAppServers: tag limits at synth', () => {
  it.each([
    ['50 tags (Azure allows 50 per resource, one is ours)', { tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])) }, 'spec.tags'],
    ['a tag name with a slash', { tags: { 'cost/center': 'x' } }, 'spec.tags.cost/center'],
  ])('rejects %s, naming the prop', (_what, overrides, prop) => {
    expect(refused({ spec: paperCutSpec(overrides) })).toThrow(propError('AzureAppServers', prop, 'test/nodes'));
  });
});
