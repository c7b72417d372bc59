import { TerraformOutput } from 'cdktf';
import { AzureDatabase, postgresStorageMb, type AzureDatabaseProps } from '../../lib/azure/azure-database';
import { PLACEMENT, VNET_ID, onlyResource, paperCutSpec, resourcesOf, subnetId, synth, propError } from './helpers';
import { papercut, parseClusterSpec } from '../../lib/spec';

const PRINCIPAL = '11111111-2222-3333-4444-555555555555';
const base = (over: Partial<AzureDatabaseProps> = {}): AzureDatabaseProps => ({
  ...PLACEMENT,
  spec: paperCutSpec(),
  delegatedSubnetId: subnetId('db'),
  virtualNetworkId: VNET_ID,
  readerPrincipalId: PRINCIPAL,
  ...over,
});

describe('AzureDatabase', () => {
  it('builds a private, zone-redundant PostgreSQL Flexible Server with TLS required and 7-day backups', () => {
    // given / when
    const { json } = synth((s) => new AzureDatabase(s, 'db', base()));

    // then
    const server = onlyResource(json, 'azurerm_postgresql_flexible_server');
    expect(server).toMatchObject({
      public_network_access_enabled: false,
      delegated_subnet_id: subnetId('db'),
      backup_retention_days: 7,
      high_availability: { mode: 'ZoneRedundant', standby_availability_zone: '2' },
      zone: '1',
      sku_name: 'GP_Standard_D2ds_v5',
      storage_mb: 32768,
      administrator_login: 'fcadmin',
      administrator_password_wo_version: 1,
      authentication: { password_auth_enabled: true, active_directory_auth_enabled: false },
    });
    expect(server.private_dns_zone_id).toContain('azurerm_private_dns_zone');
    expect(server.administrator_password).toBeUndefined();
    expect(onlyResource(json, 'azurerm_private_dns_zone').name).toBe('pc.private.postgres.database.azure.com');
    expect(onlyResource(json, 'azurerm_private_dns_zone_virtual_network_link').virtual_network_id).toBe(VNET_ID);
    const config = Object.fromEntries(resourcesOf(json, 'azurerm_postgresql_flexible_server_configuration').map((c) => [c.name, c.value]));
    expect(config).toEqual({ require_secure_transport: 'on', ssl_min_protocol_version: 'TLSv1.2' });
    expect(onlyResource(json, 'azurerm_postgresql_flexible_server_database').name).toBe('papercut');
  });

  it('keeps the generated password out of the JSON: write-only attributes fed by an apply-time expression', () => {
    // given / when
    const { json, text } = synth((s) => new AzureDatabase(s, 'db', base()));

    // then
    const secrets = resourcesOf(json, 'azurerm_key_vault_secret');
    const secret = secrets.find((x) => x.name === 'pc-db-admin-password')!;
    const server = onlyResource(json, 'azurerm_postgresql_flexible_server');
    for (const x of secrets) {
      expect(x.value).toBeUndefined();
      expect(x.value_wo).toMatch(/^\$\{local\./);
    }
    // the server's comes from the secret (test/azure/azure-database-password.test.ts)
    expect(server.administrator_password_wo).toMatch(/^\$\{ephemeral\.azurerm_key_vault_secret\./);
    expect(secret.value_wo).toMatch(/^\$\{local\./);
    // the admin's and the app user's: each its own apply-time value
    expect(Object.values(json.locals)).toEqual(['${join("", [upper(uuid()), uuid()])}', '${join("", [upper(uuid()), uuid()])}']);
    expect(text).not.toMatch(/"(administrator_password|admin_password|password)"\s*:/);
  });

  it("generates the app user's password into its own Key Vault secret, readable by the nodes, and describes the app database", () => {
    // given / when
    let db!: AzureDatabase;
    const { json } = synth((s) => (db = new AzureDatabase(s, 'db', { ...base(), appPasswordVersion: 3 })));

    // then
    const secret = resourcesOf(json, 'azurerm_key_vault_secret').find((x) => x.name === 'pc-db-papercut-app-password')!;
    expect(secret.value_wo_version).toBe(3);
    expect(secret.value_wo).toMatch(/^\$\{local\./);
    const grants = resourcesOf(json, 'azurerm_role_assignment').filter((r) => r.role_definition_name === 'Key Vault Secrets User');
    expect(grants.map((g) => g.scope)).toContainEqual(expect.stringMatching(/azurerm_key_vault_secret\.db_app-password-secret_.*\.resource_versionless_id/));
    expect(db.appDatabase?.url).toMatch(/^postgres:\/\/papercut_app@\$\{TfToken\[.*\]\}:5432\/papercut_app\?sslmode=verify-full&sslrootcert=azure$/);
    expect(db.appDatabase?.passwordSource).toMatch(/^azure-keyvault:\$\{TfToken\[.*\]\}$/);
  });

  it('refuses an app database that is the guard database, and a bad app password version', () => {
    expect(() => synth((s) => new AzureDatabase(s, 'db', { ...base(), appPasswordVersion: 0, spec: parseClusterSpec({ name: 'pc', profile: papercut({ appDatabaseName: 'papercut' }) }) }))).toThrow(
      /appPasswordVersion: must be a whole number ≥ 1[\s\S]*spec.profile.appDatabase: must differ from the admin login and the guard's database \(papercut\)/,
    );
  });

  it('keeps the secret in an RBAC key vault with purge protection, readable by the given principal only', () => {
    // given / when
    const { json } = synth((s) => new AzureDatabase(s, 'db', base()));

    // then
    expect(onlyResource(json, 'azurerm_key_vault')).toMatchObject({ rbac_authorization_enabled: true, purge_protection_enabled: true, sku_name: 'standard' });
    const roles = resourcesOf(json, 'azurerm_role_assignment');
    const reader = roles.find((r) => r.principal_id === PRINCIPAL)!;
    expect(reader).toMatchObject({ role_definition_name: 'Key Vault Secrets User' });
    expect(reader.scope).toMatch(/azurerm_key_vault_secret\..*\.resource_versionless_id/);
    expect(roles.find((r) => r.role_definition_name === 'Key Vault Secrets Officer')!.principal_id).toMatch(/data\.azurerm_client_config/);
  });

  it('tells the guard a TLS URL without password and the Key Vault secret as password source', () => {
    // given
    // when
    const { json } = synth((s) => {
      const db = new AzureDatabase(s, 'db', base());
      new TerraformOutput(s, 'guard', { value: db.guardDatabase });
    });
    const resolved = json.output.guard.value;

    // then
    expect(resolved.url).toMatch(/^postgres:\/\/fcadmin@\$\{azurerm_postgresql_flexible_server\.[\w-]+\.fqdn\}:5432\/papercut\?sslmode=verify-full&sslrootcert=azure$/);
    expect(resolved.passwordSource).toMatch(/^azure-keyvault:\$\{azurerm_key_vault_secret\.[\w-]+\.versionless_id\}$/);
  });

  it('builds a MySQL Flexible Server with require_secure_transport when the engine is mysql', () => {
    // given
    const spec = paperCutSpec({ database: { engine: 'mysql', storageGb: 50, backupRetentionDays: 14 } });

    // when
    const { json } = synth((s) => new AzureDatabase(s, 'db', base({ spec })));

    // then
    expect(onlyResource(json, 'azurerm_mysql_flexible_server')).toMatchObject({
      public_network_access: 'Disabled',
      backup_retention_days: 14,
      storage: { size_gb: 50, auto_grow_enabled: true },
      high_availability: { mode: 'ZoneRedundant' },
    });
    expect(onlyResource(json, 'azurerm_private_dns_zone').name).toBe('pc.private.mysql.database.azure.com');
    const config = Object.fromEntries(resourcesOf(json, 'azurerm_mysql_flexible_server_configuration').map((c) => [c.name, c.value]));
    expect(config.require_secure_transport).toBe('ON');
  });

  it('creates nothing for an existing database and passes its settings to the guard', () => {
    // given
    const spec = paperCutSpec({
      database: { existing: { host: 'db.example.internal', username: 'pc', passwordSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/pc' } },
    });
    let db!: AzureDatabase;

    // when
    const { json } = synth((s) => (db = new AzureDatabase(s, 'db', { ...PLACEMENT, spec })));

    // then
    expect(json.resource).toBeUndefined();
    expect(db.guardDatabase).toEqual({ url: 'postgres://pc@db.example.internal:5432/papercut?sslmode=verify-full', passwordSource: 'azure-keyvault:https://kv.vault.azure.net/secrets/pc' });
  });

  it('rounds storage up to a size PostgreSQL Flexible Server offers', () => {
    expect([20, 32, 33, 100, 16384].map(postgresStorageMb)).toEqual([32768, 32768, 65536, 131072, 16777216]);
  });

  describe('rejects', () => {
    const cases: Array<[string, Partial<AzureDatabaseProps>, string]> = [
      ['a missing delegated subnet', { delegatedSubnetId: undefined }, 'delegatedSubnetId'],
      ['a missing virtual network', { virtualNetworkId: undefined }, 'virtualNetworkId'],
      ['a missing reader principal', { readerPrincipalId: undefined }, 'readerPrincipalId'],
      ['a bad key vault name', { keyVaultName: '1vault' }, 'keyVaultName'],
      ['a reserved admin login', { administratorLogin: 'admin' }, 'administratorLogin'],
      ['a password version of 0', { passwordVersion: 0 }, 'passwordVersion'],
      ['the standby in the primary zone', { zone: '2', standbyZone: '2' }, 'standbyZone'],
      [
        'an AWS secret for an existing database',
        { spec: paperCutSpec({ database: { existing: { host: 'h', username: 'u', passwordSecretRef: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:db' } } }) },
        'spec.database.existing.passwordSecretRef',
      ],
    ];
    it.each(cases)('%s, naming the prop', (_what, over, prop) => {
      // given
      const props = base(over);

      // when / then
      expect(() => synth((s) => new AzureDatabase(s, 'db', props))).toThrow(propError('AzureDatabase', prop));
    });
  });
});

describe('AzureDatabase after an HA failover', () => {
  it.each(['postgres', 'mysql'] as const)('%s: an apply leaves the zones where Azure moved them (ignore_changes)', (engine) => {
    // given / when
    const { json } = synth((s) => new AzureDatabase(s, 'db', base({ spec: paperCutSpec({ database: { engine } }) })));
    // then
    const server = onlyResource(json, engine === 'postgres' ? 'azurerm_postgresql_flexible_server' : 'azurerm_mysql_flexible_server');
    expect(server.lifecycle.ignore_changes).toEqual(['zone', 'high_availability[0].standby_availability_zone']);
    expect(server.high_availability).toEqual({ mode: 'ZoneRedundant', standby_availability_zone: '2' });
  });
});

describe('AzureDatabase: deploy review', () => {
  it('names the server like the key vault: cluster name, "db" and a hash of subscription/group/cluster (a public DNS name)', () => {
    // given / when
    const { json } = synth((s) => new AzureDatabase(s, 'db', base()));
    // then
    const server = onlyResource(json, 'azurerm_postgresql_flexible_server');
    const vault = onlyResource(json, 'azurerm_key_vault');
    expect(server.name).not.toBe('pc-db');
    expect(server.name).toMatch(/^pcdb\$\{substr\(md5\(join\("\/", \[data\.azurerm_client_config\.[\w-]+\.subscription_id, "rg-test", "pc", "db"\]\)\), 0, 8\)\}$/);
    expect(vault.name).toBe(server.name.replace(/^pcdb/, 'pckv').replace('"db"', '"kv"'));
  });

  it('takes serverName (e.g. the old "<name>-db" of an existing server) and checks it', () => {
    const { json } = synth((s) => new AzureDatabase(s, 'db', base({ serverName: 'pc-db' })));
    expect(onlyResource(json, 'azurerm_postgresql_flexible_server').name).toBe('pc-db');
    expect(() => synth((s) => new AzureDatabase(s, 'db', base({ serverName: 'PC_db' })))).toThrow(propError('AzureDatabase', 'serverName'));
  });
});
