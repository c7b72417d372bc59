import { Testing } from 'cdktf';
import { AzurePaperCutStack } from '../../apps/examples/azure-papercut';
import { AzureThinPrintDnsStack } from '../../apps/examples/azure-thinprint-dns';
import { EXAMPLE_STACKS } from '../../apps/stacks';
import { FIXTURE_BINARY, onlyResource, resourcesOf } from './helpers';

function synthPaperCut() {
  const text = Testing.synth(new AzurePaperCutStack(Testing.app(), 'azure-papercut', { binaryPath: FIXTURE_BINARY }));
  return { text, json: JSON.parse(text) };
}

describe('example stack azure-papercut', () => {
  const { json, text } = synthPaperCut();

  it('matches the snapshot', () => {
    expect(json).toMatchSnapshot();
  });

  it('is registered in EXAMPLE_STACKS', () => {
    expect(Object.keys(EXAMPLE_STACKS)).toEqual(expect.arrayContaining(['azure-papercut', 'azure-thinprint-dns']));
  });

  it('has a credential-free azurerm provider and placeholder ids as variables', () => {
    expect(json.provider.azurerm).toEqual([{ features: [{}], storage_use_azuread: true }]);
    expect(Object.keys(json.variable).sort()).toEqual([
      'admin_ssh_public_key',
      'app_subnet_id',
      'database_subnet_id',
      'location',
      'private_endpoint_subnet_id',
      'resource_group_name',
      'virtual_network_id',
    ]);
    expect(text).not.toMatch(/client_secret|subscription_id"\s*:\s*"[0-9a-f-]{36}"/);
  });

  it('builds PaperCut MF on Linux: 2 nodes, internal LB, PostgreSQL Flexible Server, NFS share', () => {
    expect(onlyResource(json, 'azurerm_linux_virtual_machine_scale_set').instances).toBe(2);
    expect(onlyResource(json, 'azurerm_lb').frontend_ip_configuration[0].public_ip_address_id).toBeUndefined();
    expect(resourcesOf(json, 'azurerm_lb_rule').map((r) => r.frontend_port).sort()).toEqual([9191, 9192, 9193]);
    expect(onlyResource(json, 'azurerm_postgresql_flexible_server').high_availability.mode).toBe('ZoneRedundant');
    expect(onlyResource(json, 'azurerm_storage_share').enabled_protocol).toBe('NFS');
  });

  it('keeps secrets out and nothing open to the Internet', () => {
    expect(text).not.toMatch(/"(administrator_password|admin_password|password)"\s*:/);
    for (const secret of resourcesOf(json, 'azurerm_key_vault_secret')) expect(secret.value).toBeUndefined();
    const allows = resourcesOf(json, 'azurerm_network_security_group').flatMap((g) => g.security_rule).filter((r: any) => r.access === 'Allow');
    for (const r of allows) expect(['*', 'Internet', '0.0.0.0/0']).not.toContain(r.source_address_prefix);
    expect(resourcesOf(json, 'azurerm_public_ip')).toHaveLength(0);
  });
});

describe('example stack azure-thinprint-dns', () => {
  const json = JSON.parse(Testing.synth(new AzureThinPrintDnsStack(Testing.app(), 'azure-thinprint-dns')));

  it('matches the snapshot', () => {
    expect(json).toMatchSnapshot();
  });

  it('answers with both nodes from a MultiValue Traffic Manager profile, TTL 30', () => {
    expect(onlyResource(json, 'azurerm_traffic_manager_profile')).toMatchObject({ traffic_routing_method: 'MultiValue', dns_config: { ttl: 30 } });
    expect(resourcesOf(json, 'azurerm_traffic_manager_external_endpoint')).toHaveLength(2);
  });
});
