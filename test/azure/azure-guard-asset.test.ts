import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { TerraformOutput } from 'cdktf';
import { AzureGuardAsset, type AzureGuardAssetProps } from '../../lib/azure/azure-guard-asset';
import { FIXTURE_BINARY, PLACEMENT, onlyResource, paperCutSpec, resourcesOf, synth, propError } from './helpers';

const PRINCIPAL = '11111111-2222-3333-4444-555555555555';
const base = (over: Partial<AzureGuardAssetProps> = {}): AzureGuardAssetProps => ({
  ...PLACEMENT,
  spec: paperCutSpec(),
  binaryPath: FIXTURE_BINARY,
  readerPrincipalId: PRINCIPAL,
  ...over,
});
const SHA = createHash('sha256').update(readFileSync(FIXTURE_BINARY)).digest('hex');

describe('AzureGuardAsset', () => {
  it('uploads the binary as an asset into a private container of a key-less, TLS 1.2 account', () => {
    // given / when
    const { json } = synth((s) => new AzureGuardAsset(s, 'guard', base()));

    // then
    expect(onlyResource(json, 'azurerm_storage_account')).toMatchObject({
      account_kind: 'StorageV2',
      min_tls_version: 'TLS1_2',
      https_traffic_only_enabled: true,
      allow_nested_items_to_be_public: false,
      shared_access_key_enabled: false,
      default_to_oauth_authentication: true,
    });
    expect(onlyResource(json, 'azurerm_storage_container')).toMatchObject({ name: 'failover-guard', container_access_type: 'private' });
    const blob = onlyResource(json, 'azurerm_storage_blob');
    // the blob is the gzip-compressed binary; its name and metadata carry the binary's own hash
    expect(blob).toMatchObject({ type: 'Block', name: `failover-guard-${SHA.slice(0, 16)}.gz`, content_type: 'application/gzip', metadata: { sha256: SHA } });
    expect(blob.source).toMatch(/^assets\/.*failover-guard-fixture\.gz$/);
  });

  it('lets only the given principal read, scoped to the container', () => {
    // given / when
    const { json } = synth((s) => new AzureGuardAsset(s, 'guard', base()));

    // then
    const reader = resourcesOf(json, 'azurerm_role_assignment').find((r) => r.principal_id === PRINCIPAL)!;
    expect(reader.role_definition_name).toBe('Storage Blob Data Reader');
    expect(reader.scope).toMatch(/^\$\{azurerm_storage_container\.[\w-]+\.id\}$/);
  });

  it('tells the boot script the blob URL, the SHA-256 and the identity to use', () => {
    // given / when
    const { json } = synth((s) => {
      const guard = new AzureGuardAsset(s, 'guard', base());
      new TerraformOutput(s, 'source', { value: { url: guard.url, sha256: guard.source.sha256, linux: guard.source.linux().values } });
    });

    // then
    expect(json.output.source.value).toEqual({
      url: expect.stringMatching(/^\$\{azurerm_storage_blob\.[\w-]+\.url\}$/),
      sha256: SHA,
      linux: expect.stringMatching(/^GUARD_BLOB_URL='\$\{azurerm_storage_blob\.[\w-]+\.url\}'\n$/),
    });
  });

  describe('rejects', () => {
    it('a missing binary, naming binaryPath and that leaving it unset builds one', () => {
      expect(() => synth((s) => new AzureGuardAsset(s, 'guard', base({ binaryPath: '/nonexistent/failover-guard' })))).toThrow(
        /^test\/guard is invalid:\n  - binaryPath: no guard binary at \/nonexistent\/failover-guard \(leave binaryPath unset to build it at synth\)/,
      );
    });
    const cases: Array<[string, Partial<AzureGuardAssetProps>, string]> = [
      ['a bad account name', { storageAccountName: 'guard_blob' }, 'storageAccountName'],
      ['no reader principal', { readerPrincipalId: '' }, 'readerPrincipalId'],
      ['an empty binary path', { binaryPath: '' }, 'binaryPath'],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      expect(() => synth((s) => new AzureGuardAsset(s, 'guard', base(over)))).toThrow(propError('AzureGuardAsset', prop));
    });
  });
});
