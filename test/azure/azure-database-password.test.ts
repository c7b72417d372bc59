/**
 * The generated admin password of an AzureDatabase stays one value in the server and in its Key
 * Vault secret across partly failed applies. Terraform itself cannot run here, so the applies are
 * replayed on the synthesized JSON by the rules Terraform follows for these expressions: a
 * function such as `uuid()` is evaluated anew in every apply; a write-only argument is sent only
 * when its resource is created or its `*_wo_version` changes; an ephemeral
 * `azurerm_key_vault_secret` yields what the vault holds for that secret when it is read.
 */
import { AzureDatabase, type AzureDatabaseProps } from '../../lib/azure/azure-database';
import { PLACEMENT, VNET_ID, onlyResource, paperCutSpec, resourcesOf, subnetId, synth } from './helpers';

const base = (over: Partial<AzureDatabaseProps> = {}): AzureDatabaseProps => ({
  ...PLACEMENT,
  spec: paperCutSpec(),
  delegatedSubnetId: subnetId('db'),
  virtualNetworkId: VNET_ID,
  readerPrincipalId: '11111111-2222-3333-4444-555555555555',
  ...over,
});

type Json = Record<string, any>;

/** One apply's view: its number (a per-apply function yields a new value in each) and the vault's contents by secret resource. */
interface Apply {
  readonly n: number;
  readonly vault: Map<string, string>;
}

/** What a write-only expression yields in one apply, following the references through locals and ephemeral reads. */
function evaluate(json: Json, expr: string, apply: Apply): string {
  const local = /^\$\{local\.([\w-]+)\}$/.exec(expr);
  if (local) return evaluate(json, json.locals[local[1]], apply);
  const ephemeral = /^\$\{ephemeral\.azurerm_key_vault_secret\.([\w-]+)\.value\}$/.exec(expr);
  if (ephemeral) {
    const read = json.ephemeral.azurerm_key_vault_secret[ephemeral[1]];
    const secret = /^\$\{azurerm_key_vault_secret\.([\w-]+)\.name\}$/.exec(read.name)?.[1];
    expect(read.key_vault_id).toBe(`\${azurerm_key_vault_secret.${secret}.key_vault_id}`);
    // reading the secret's own version: opened after that secret's write in the same apply
    expect(read.version).toBe(`\${azurerm_key_vault_secret.${secret}.version}`);
    const held = apply.vault.get(secret!);
    if (held === undefined) throw new Error(`apply ${apply.n}: secret ${secret} does not exist yet`);
    return held;
  }
  if (/uuid\(\)/.test(expr)) return `${expr} of apply ${apply.n}`;
  throw new Error(`not modelled: ${expr}`);
}

/** The admin secret's resource name, its JSON, and the server's JSON. */
function parts(json: Json) {
  const secrets = json.resource.azurerm_key_vault_secret as Record<string, Json>;
  const [secretId, secret] = Object.entries(secrets).find(([, s]) => s.name === 'pc-db-admin-password')!;
  return { secretId, secret, server: onlyResource(json, 'azurerm_postgresql_flexible_server') };
}

describe('AzureDatabase admin password across partly failed applies', () => {
  it('secret created, server failed, apply again: the server gets the value the secret holds', () => {
    // given
    const { json } = synth((s) => new AzureDatabase(s, 'db', base()));
    const { secretId, secret, server } = parts(json);
    const vault = new Map<string, string>();

    // when: apply 1 writes the secret (created), then the server's create fails
    vault.set(secretId, evaluate(json, secret.value_wo, { n: 1, vault }));
    // apply 2: the secret is unchanged (same value_wo_version: nothing sent); the server is created
    const serverPassword = evaluate(json, server.administrator_password_wo, { n: 2, vault });

    // then
    expect(serverPassword).toBe(vault.get(secretId));
    expect(server.administrator_password_wo_version).toBe(secret.value_wo_version);
  });

  it('a new passwordVersion whose server update fails: the next apply sends the server the new value the secret holds', () => {
    // given: deployed with version 1 (both hold the same value)
    const v1 = synth((s) => new AzureDatabase(s, 'db', base())).json;
    const v2 = synth((s) => new AzureDatabase(s, 'db', base({ passwordVersion: 2 }))).json;
    const vault = new Map<string, string>();
    const { secretId } = parts(v1);
    vault.set(secretId, evaluate(v1, parts(v1).secret.value_wo, { n: 1, vault }));
    const first = evaluate(v1, parts(v1).server.administrator_password_wo, { n: 1, vault });

    // when: apply 2 (version 2) rewrites the secret, the server's update fails; apply 3 retries the server
    expect(parts(v2).secret.value_wo_version).toBe(2);
    vault.set(secretId, evaluate(v2, parts(v2).secret.value_wo, { n: 2, vault }));
    const second = evaluate(v2, parts(v2).server.administrator_password_wo, { n: 3, vault });

    // then
    expect(first).toBe(`${v1.locals[Object.keys(v1.locals)[0]]} of apply 1`);
    expect(second).toBe(vault.get(secretId));
    expect(second).not.toBe(first);
    expect(parts(v2).server.administrator_password_wo_version).toBe(2);
  });

  it('the read is ephemeral: nothing of the value reaches a data source, an output or a plain argument', () => {
    // given / when
    const { json, text } = synth((s) => new AzureDatabase(s, 'db', base()));
    // then
    expect(Object.keys(json.ephemeral.azurerm_key_vault_secret)).toHaveLength(1);
    expect(json.data?.azurerm_key_vault_secret).toBeUndefined();
    expect(json.output).toBeUndefined();
    const uses = text.match(/ephemeral\.azurerm_key_vault_secret\.[\w-]+\.value/g) ?? [];
    expect(uses).toHaveLength(1);
    expect(resourcesOf(json, 'azurerm_postgresql_flexible_server')[0].administrator_password_wo).toBe(`\${${uses[0]}}`);
  });
});
