import { Testing } from 'cdktf';
import { AzurePaperCutStack } from '../../apps/examples/azure-papercut/stack';
import { AzureThinPrintStack } from '../../apps/examples/azure-thinprint/stack';
import { EXAMPLE_STACKS } from '../../apps/stacks';
import { FIXTURE_BINARY, onlyResource, resourcesOf } from './helpers';
import { expectPaperCutInstalledBeforeCheck } from '../harness/first-boot-install';

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
    expect(Object.keys(EXAMPLE_STACKS)).toEqual(expect.arrayContaining(['azure-papercut', 'azure-thinprint']));
  });

  it('has a credential-free azurerm provider and placeholder ids as variables', () => {
    expect(json.provider.azurerm).toEqual([{ features: [{}], storage_use_azuread: true }]);
    expect(Object.keys(json.variable).sort()).toEqual([
      'admin_ssh_public_key',
      'app_subnet_id',
      'database_subnet_id',
      'location',
      'papercut_installer_url',
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

describe('example stack azure-papercut: deploy review', () => {
  it('installs PaperCut (installer URL as a variable) before the boot script checks for pc-app-server.service', () => {
    expectPaperCutInstalledBeforeCheck(synthPaperCut().json);
  });
});

describe('example stack azure-thinprint (single-active)', () => {
  const text = Testing.synth(new AzureThinPrintStack(Testing.app(), 'azure-thinprint', { binaryPath: FIXTURE_BINARY }));
  const json = JSON.parse(text);

  it('matches the snapshot', () => {
    expect(json).toMatchSnapshot();
  });

  it('runs ThinPrint on Windows behind the load balancer and the guard, with its node configuration', () => {
    const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
    expect(vmss.instances).toBe(2);
    expect(resourcesOf(json, 'azurerm_lb_rule').map((r) => r.frontend_port).sort()).toEqual([4000, 4001, 4002]);
    expect(onlyResource(json, 'azurerm_lb_probe')).toMatchObject({ request_path: '/health', port: 9180 });
    const script = Object.values(json.locals).find((v) => String(v).includes('TPConnectionService')) as string;
    expect(script).toContain("Invoke-Step 'configure the ThinPrint Connection Service node'");
    expect(script).toContain("$TpServerPort = [int]'4002'");
    expect(resourcesOf(json, 'azurerm_traffic_manager_profile')).toHaveLength(0);
  });

  it('keeps the client keys out: a sensitive variable without default, a write-only secret', () => {
    expect(json.variable.thinprint_client_keys).toMatchObject({ sensitive: true });
    expect(json.variable.thinprint_client_keys.default).toBeUndefined();
    // ephemeral: the value never reaches a saved plan file (it feeds only write-only arguments)
    expect(json.variable.thinprint_client_keys.ephemeral).toBe(true);
    for (const secret of resourcesOf(json, 'azurerm_key_vault_secret')) expect(secret.value).toBeUndefined();
    expect(text).not.toMatch(/"key\\":\\"[^<]/);
  });

  it('boots the nodes from an image that has ThinPrint (the marketplace image has none), a documented required input', () => {
    expect(json.variable.source_image_id.default).toBeUndefined();
    expect(json.variable.source_image_id.description).toMatch(/ThinPrint Connection Service installed/);
    const vmss = onlyResource(json, 'azurerm_windows_virtual_machine_scale_set');
    expect(vmss.source_image_id).toBe('${var.source_image_id}');
    expect(vmss.source_image_reference).toBeUndefined();
  });
});
