import { AzureAppServers, type AzureAppServersProps } from '../../lib/azure/azure-app-servers';
import { escapeTemplateLiterals } from '../../lib/core/terraform-template';
import type { BootContext } from '../../lib/boot/context';
import { papercut, parseClusterSpec, thinprint } from '../../lib/spec';
import { PLACEMENT, onlyResource, paperCutSpec, resourcesOf, subnetId, synth, propError } from './helpers';

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnlyFakeKeyForTestsOnly test@example';
const CTX: BootContext = {
  share: { kind: 'nfs', address: 'acct.file.core.windows.net:/acct/failover' },
  guardBinary: { kind: 'azure-blob', url: 'https://acct.blob.core.windows.net/failover-guard/g', sha256: 'ab'.repeat(32), managedIdentityClientId: '00000000-0000-4000-8000-000000000001' },
  database: { url: 'postgres://fcadmin@db:5432/papercut?sslmode=require', passwordSource: 'azure-keyvault:https://kv.vault.azure.net/secrets/pw' },
};
const base = (over: Partial<AzureAppServersProps> = {}): AzureAppServersProps => ({
  ...PLACEMENT,
  spec: paperCutSpec(),
  subnetId: subnetId('app'),
  bootContext: CTX,
  adminSshPublicKey: SSH_KEY,
  backendAddressPoolIds: ['pool-id'],
  ...over,
});
const windowsSpec = () => parseClusterSpec({ name: 'pcw', profile: papercut({ os: 'windows' }), storage: { kind: 'smb' } });

describe('AzureAppServers', () => {
  it('builds a fixed-size Linux scale set across zones, SSH key only, no overprovisioning, in the LB pool', () => {
    // given / when
    const { json } = synth((s) => new AzureAppServers(s, 'nodes', base()));

    // then
    const vmss = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set');
    expect(vmss).toMatchObject({
      instances: 2,
      zones: ['1', '2', '3'],
      disable_password_authentication: true,
      admin_ssh_key: [{ username: 'fcadmin', public_key: SSH_KEY }],
      overprovision: false,
      upgrade_mode: 'Manual',
      identity: { type: 'UserAssigned' },
    });
    expect(vmss.admin_password).toBeUndefined();
    expect(vmss.network_interface[0].ip_configuration[0]).toMatchObject({ subnet_id: subnetId('app'), load_balancer_backend_address_pool_ids: ['pool-id'] });
    expect(vmss.identity.identity_ids[0]).toContain('azurerm_user_assigned_identity');
  });

  it('repairs instances only on the guard /live (Application Health extension on 9180), never on /health', () => {
    // given / when
    const { json, text } = synth((s) => new AzureAppServers(s, 'nodes', base()));

    // then
    const vmss = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set');
    expect(vmss.automatic_instance_repair).toEqual({ enabled: true, grace_period: 'PT30M', action: 'Replace' });
    expect(vmss.health_probe_id).toBeUndefined();
    const ext = vmss.extension.find((e: any) => e.type === 'ApplicationHealthLinux');
    expect(JSON.parse(ext.settings)).toMatchObject({ protocol: 'http', port: 9180, requestPath: '/live' });
    expect(text).not.toContain('requestPath\\":\\"/health');
  });

  it('renders custom data from lib/boot, kept literal in a local and base64-encoded by Terraform', () => {
    // given
    let nodes!: AzureAppServers;

    // when
    const { json } = synth((s) => (nodes = new AzureAppServers(s, 'nodes', base())));

    // then
    const local = onlyResource(json, 'azurerm_linux_virtual_machine_scale_set').custom_data.match(/^\$\{base64encode\(local\.([\w-]+)\)\}$/)[1];
    expect(json.locals[local]).toBe(escapeTemplateLiterals(nodes.bootScript));
    expect(nodes.bootScript).toContain('database.password-source=azure-keyvault:https://kv.vault.azure.net/secrets/pw');
  });

  it('admits app ports from the virtual network, the guard port from the LB probe, and denies the rest', () => {
    // given / when
    const { json } = synth((s) => new AzureAppServers(s, 'nodes', base()));

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
    const a = synth((s) => new AzureAppServers(s, 'nodes', base({ spec: cidrs }))).json;
    const b = synth((s) => new AzureAppServers(s, 'nodes', base({ spec: pub }))).json;

    // then
    expect(onlyResource(a, 'azurerm_network_security_group').security_rule[0].source_address_prefixes).toEqual(['10.20.0.0/16']);
    expect(onlyResource(b, 'azurerm_network_security_group').security_rule[0].source_address_prefix).toBe('Internet');
  });

  it('uses a given identity and waits for the given dependencies', () => {
    // given / when
    const { json } = synth((s) => {
      const first = new AzureAppServers(s, 'a', base());
      new AzureAppServers(s, 'b', base({ spec: paperCutSpec({ name: 'pc2' }), identity: first.identity, dependsOn: [first.networkSecurityGroup] }));
    });

    // then
    expect(resourcesOf(json, 'azurerm_user_assigned_identity')).toHaveLength(1);
    const second = resourcesOf(json, 'azurerm_linux_virtual_machine_scale_set').find((v) => v.name === 'pc2-nodes')!;
    expect(second.depends_on).toEqual([expect.stringMatching(/^azurerm_network_security_group\./)]);
  });

  it('builds a Windows scale set that runs the custom data with the Custom Script extension and a generated, ignored admin password', () => {
    // given / when
    const { json } = synth((s) => new AzureAppServers(s, 'nodes', base({
      spec: windowsSpec(),
      adminSshPublicKey: undefined,
      bootContext: { ...base().bootContext, share: { kind: 'smb', address: '//acct.file.core.windows.net/failover' } },
    })));

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
      ['an SSH key on Windows', { spec: windowsSpec() }, 'adminSshPublicKey'],
      ['a Windows password on Linux', { windowsAdminPassword: 'x' }, 'windowsAdminPassword'],
      ['a repair grace period of 5 minutes', { repairGracePeriodMinutes: 5 }, 'repairGracePeriodMinutes'],
      ['no zones', { zones: [] }, 'zones'],
      ['no subnet', { subnetId: '' }, 'subnetId'],
      ['a bad admin user name', { adminUsername: 'Admin User' }, 'adminUsername'],
      ['a DNS-mode profile', { spec: parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }), adminSshPublicKey: undefined }, 'spec.profile.failoverMode'],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      expect(() => synth((s) => new AzureAppServers(s, 'nodes', base(over)))).toThrow(propError('AzureAppServers', prop));
    });
  });
});
