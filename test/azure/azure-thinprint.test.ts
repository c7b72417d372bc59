import { TerraformVariable } from 'cdktf';
import { AzureThinPrintClientKeys, azureThinPrintProblems } from '../../lib/azure/azure-thinprint';
import { parseClusterSpec, thinprint } from '../../lib/spec';
import { onlyResource, paperCutSpec, synth } from './helpers';

const tp = parseClusterSpec({ name: 'tp', profile: thinprint() });

describe('AzureThinPrintClientKeys', () => {
  it('a write-only Key Vault secret and a reader role on exactly that secret', () => {
    // when
    let keys!: AzureThinPrintClientKeys;
    const { json } = synth((s) => {
      const value = new TerraformVariable(s, 'keys', { type: 'string', sensitive: true }).stringValue;
      keys = new AzureThinPrintClientKeys(s, 'client-keys', { spec: tp, keyVaultId: '/subscriptions/0/vaults/kv', value, readerPrincipalId: '00000000-0000-0000-0000-000000000001' });
    });
    // then
    const secret = onlyResource(json, 'azurerm_key_vault_secret');
    expect(secret).toMatchObject({ name: 'tp-thinprint-clients', key_vault_id: '/subscriptions/0/vaults/kv', value_wo: '${var.keys}', value_wo_version: 1 });
    expect(secret.value).toBeUndefined();
    const role = onlyResource(json, 'azurerm_role_assignment');
    expect(role).toMatchObject({ role_definition_name: 'Key Vault Secrets User', principal_id: '00000000-0000-0000-0000-000000000001' });
    expect(role.scope).toContain('resource_versionless_id');
    expect(keys.secretRef.startsWith('azure-keyvault:')).toBe(true);
  });
});

describe('azureThinPrintProblems', () => {
  it.each<[string, ReturnType<typeof parseClusterSpec>, string | undefined, string]>([
    ['dns-multicast', parseClusterSpec({ name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }), undefined, 'spec.profile.clusterMode'],
    ['a literal key list', tp, '{"clients":[]}', 'thinprint.clientKeysValue'],
    ['keys for another app', paperCutSpec(), '${TfToken[TOKEN.1]}', 'thinprint'],
    ['keys without the cluster\'s vault', parseClusterSpec({ name: 'tp', profile: thinprint(), database: { existing: { host: 'db', username: 'u', passwordSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/db' } } }), '${TfToken[TOKEN.1]}', 'thinprint.clientKeysValue'],
  ])('%s', (_name, spec, value, path) => {
    expect(azureThinPrintProblems(spec, value === undefined ? undefined : { clientKeysValue: value }).map((p) => p.path)).toEqual([path]);
  });

  it('single-active with keys from a variable is fine', () => {
    expect(azureThinPrintProblems(tp, { clientKeysValue: '${TfToken[TOKEN.1]}' })).toEqual([]);
  });
});
