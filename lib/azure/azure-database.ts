import { Fn, TerraformLocal } from 'cdktf';
import { Construct } from 'constructs';
import { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault';
import { KeyVaultSecret } from '@cdktf/provider-azurerm/lib/key-vault-secret';
import { MysqlFlexibleDatabase } from '@cdktf/provider-azurerm/lib/mysql-flexible-database';
import { MysqlFlexibleServer } from '@cdktf/provider-azurerm/lib/mysql-flexible-server';
import { MysqlFlexibleServerConfiguration } from '@cdktf/provider-azurerm/lib/mysql-flexible-server-configuration';
import { PostgresqlFlexibleServer } from '@cdktf/provider-azurerm/lib/postgresql-flexible-server';
import { PostgresqlFlexibleServerConfiguration } from '@cdktf/provider-azurerm/lib/postgresql-flexible-server-configuration';
import { PostgresqlFlexibleServerDatabase } from '@cdktf/provider-azurerm/lib/postgresql-flexible-server-database';
import { PrivateDnsZone } from '@cdktf/provider-azurerm/lib/private-dns-zone';
import { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { GuardDatabaseSettings } from '../contracts/guard-settings';
import { throwIfProblems } from '../problems/problems';
import { clusterTags } from '../spec/tags';
import { clientConfig, globalName, type AzurePlacement, placementOf } from './azure-support';
import { isUnresolved } from '../contracts/tokens';
import { keyVaultSecretReference, secretReferenceProblem } from '../contracts/secret-reference';
import { AzureRoleAssignmentWait } from './azure-rbac-propagation';
import { KeyVaultSecretValue } from './key-vault-secret-value';
import { DEFAULT_DATABASE_PORT, databaseUrl } from '../contracts/database-url';
import { requireWriteOnlyArguments } from '../synth/terraform-version';

/** Flexible Server SKUs per spec size; General Purpose, because Burstable has no zone-redundant HA. */
export const AZURE_DB_SKUS = {
  postgres: { small: 'GP_Standard_D2ds_v5', medium: 'GP_Standard_D4ds_v5', large: 'GP_Standard_D8ds_v5' },
  mysql: { small: 'GP_Standard_D2ds_v4', medium: 'GP_Standard_D4ds_v4', large: 'GP_Standard_D8ds_v4' },
} as const;

/** The storage sizes PostgreSQL Flexible Server accepts, in MB. */
const POSTGRES_STORAGE_MB = [32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216, 33553408];

/** Properties of an {@link AzureDatabase}. */
export interface AzureDatabaseProps extends AzurePlacement {
  /** The parsed cluster spec: `database` (engine, size, storage, backups, name, existing). */
  readonly spec: ClusterSpec;
  /**
   * Subnet delegated to `Microsoft.DBforPostgreSQL/flexibleServers` (or MySQL). Required unless `spec.database.existing`.
   * @default - none
   */
  readonly delegatedSubnetId?: string;
  /**
   * Virtual network the private DNS zone is linked to. Required unless `spec.database.existing`.
   * @default - none
   */
  readonly virtualNetworkId?: string;
  /**
   * Principal (the app servers' managed identity) that may read the admin password secret. Required unless `spec.database.existing`.
   * @default - none
   */
  readonly readerPrincipalId?: string;
  /**
   * Existing private DNS zone (`*.private.postgres.database.azure.com` / `*.mysql.database.azure.com`).
   * @default - one is created and linked
   */
  readonly privateDnsZoneId?: string;
  /**
   * Key vault name (3–24 letters, digits, dashes; globally unique).
   * @default - `<name>kv<hash>`
   */
  readonly keyVaultName?: string;
  /**
   * Name of the flexible server: `<name>.postgres.database.azure.com` is public DNS, so it is
   * unique across all of Azure (3–63 lower-case letters, digits and dashes). Give `<spec.name>-db`
   * to keep a server created before the default changed (a new name replaces the server).
   * @default - `<name>db<hash>`, like the key vault and the storage accounts
   */
  readonly serverName?: string;
  /**
   * Name of the server's administrator (the guard's user).
   * @default 'fcadmin'
   */
  readonly administratorLogin?: string;
  /**
   * Bump to set a new generated admin password (server and secret together).
   * @default 1
   */
  readonly passwordVersion?: number;
  /**
   * Bump to generate a new app password (profiles with `appDatabase`): the secret gets a new
   * value at the next apply; the app's next start (a step-down) sets it on the database.
   * @default 1
   */
  readonly appPasswordVersion?: number;
  /**
   * Zone of the primary.
   * @default '1'
   */
  readonly zone?: string;
  /**
   * Zone of the zone-redundant standby.
   * @default '2'
   */
  readonly standbyZone?: string;
  /**
   * SKU of the flexible server.
   * @default - by spec.database.size, see AZURE_DB_SKUS
   */
  readonly skuName?: string;
  /**
   * Server version.
   * @default '16' (PostgreSQL) / '8.0.21' (MySQL)
   */
  readonly version?: string;
  /**
   * Geo-redundant backups (paired region).
   * @default false
   */
  readonly geoRedundantBackup?: boolean;
}

/**
 * The guard's coordination store (and the app's database): PostgreSQL Flexible Server (MySQL
 * option) with zone-redundant HA, private access only (delegated subnet + private DNS zone),
 * TLS required, backups ≥ 7 days. The admin password is generated by Terraform at apply time
 * and written only to write-only attributes (`administrator_password_wo`, the Key Vault
 * secret's `value_wo`): it never reaches the plan, the state or the synthesized JSON. The
 * guard reads it from Key Vault with the VMs' managed identity (a Key Vault secret reference).
 * With `spec.database.existing` nothing is created and the guard uses the given server.
 */
export class AzureDatabase extends Construct {
  /** What the guard is told: URL without password, and where the password lives. */
  public readonly guardDatabase: GuardDatabaseSettings;
  /** The server's host name (the flexible server's private FQDN, or `spec.database.existing.host`). */
  public readonly host: string;
  /** The server's port: 5432 (PostgreSQL) or 3306 (MySQL), or `spec.database.existing.port`. */
  public readonly port: number;
  /** The flexible server; undefined for an existing database. */
  public readonly server?: PostgresqlFlexibleServer | MysqlFlexibleServer;
  /** The database on that server; undefined for an existing database. */
  public readonly database?: PostgresqlFlexibleServerDatabase | MysqlFlexibleDatabase;
  /** The server's private DNS zone, when created here. */
  public readonly privateDnsZone?: PrivateDnsZone;
  /** The cluster's Key Vault (RBAC, purge protection); undefined for an existing database. */
  public readonly keyVault?: KeyVault;
  /** The admin password's Key Vault secret (write-only value); undefined for an existing database. */
  public readonly passwordSecret?: KeyVaultSecret;
  /** The app's own user (profiles with `appDatabase`): URL without password and its secret. */
  public readonly appDatabase?: GuardDatabaseSettings;
  /** Key Vault secret of the app user's password (generated at apply time, write-only). */
  public readonly appPasswordSecret?: KeyVaultSecret;
  /** Grants the app servers must have before they boot (Key Vault Secrets User on the secret). */
  public readonly readerRoleAssignments: RoleAssignment[] = [];
  /** The deploying principal's data-plane role on the vault. */
  public readonly secretsOfficerAssignment?: RoleAssignment;
  /** The wait for that role to propagate: every secret written to the vault depends on it. */
  public readonly secretsWriterReady?: AzureRoleAssignmentWait;

  constructor(scope: Construct, id: string, props: AzureDatabaseProps) {
    super(scope, id);
    // passwords and keys go through write-only arguments (`*_wo`): Terraform ≥ 1.11
    requireWriteOnlyArguments(this);
    throwIfProblems(this.node.path, databaseProblems(props));
    const { spec } = props;
    const db = spec.database;
    if (db.existing) {
      const port = db.existing.port ?? DEFAULT_DATABASE_PORT[db.engine];
      this.host = db.existing.host;
      this.port = port;
      this.guardDatabase = { url: databaseUrl(db.engine, db.existing.username, db.existing.host, port, db.name), passwordSource: db.existing.passwordSecretRef };
      return;
    }
    const tags = clusterTags(spec);
    const placement = placementOf(props);
    const login = props.administratorLogin ?? 'fcadmin';
    const passwordVersion = props.passwordVersion ?? 1;
    const client = clientConfig(this);

    this.keyVault = new KeyVault(this, 'vault', {
      ...placement,
      name: props.keyVaultName ?? globalName(this, placement, spec, 'kv'),
      tenantId: client.tenantId,
      skuName: 'standard',
      rbacAuthorizationEnabled: true,
      purgeProtectionEnabled: true,
      softDeleteRetentionDays: 90,
      tags,
    });
    // RBAC vault: the deploying principal needs a data-plane role to write the secret.
    const officer = new RoleAssignment(this, 'deployer-secrets-officer', {
      scope: this.keyVault.id,
      roleDefinitionName: 'Key Vault Secrets Officer',
      principalId: client.objectId,
    });
    this.secretsOfficerAssignment = officer;
    // Secrets are written once the role has propagated (a write right after the grant gets 403).
    const writer = new AzureRoleAssignmentWait(this, 'deployer-secrets-officer-propagation', { assignments: [officer] });
    this.secretsWriterReady = writer;
    // Two UUIDs (≥ 244 random bits; upper + lower case, digits and dashes meet Azure's
    // complexity rules), evaluated anew on every apply but written to the secret only when it is
    // created or passwordVersion changes. The server takes the password from the secret (an
    // ephemeral read after that write), never from this expression: after a partly failed
    // apply, the next one gives the server what the secret holds, so the two never differ.
    const generated = new TerraformLocal(this, 'admin-password', Fn.join('', [Fn.upper(Fn.uuid()), Fn.uuid()]));
    this.passwordSecret = new KeyVaultSecret(this, 'admin-password-secret', {
      name: `${spec.name}-db-admin-password`,
      keyVaultId: this.keyVault.id,
      valueWo: generated.asString,
      valueWoVersion: passwordVersion,
      contentType: `password of ${login} on the ${spec.name} ${db.engine} server`,
      tags,
      dependsOn: [writer],
    });
    this.readerRoleAssignments.push(
      new RoleAssignment(this, 'reader-secrets-user', {
        scope: this.passwordSecret.resourceVersionlessId,
        roleDefinitionName: 'Key Vault Secrets User',
        principalId: props.readerPrincipalId!,
      }),
    );

    const password = new KeyVaultSecretValue(this, 'admin-password-value', this.passwordSecret);

    const zoneSuffix = db.engine === 'postgres' ? 'private.postgres.database.azure.com' : 'private.mysql.database.azure.com';
    let dnsZoneId = props.privateDnsZoneId;
    const dependsOn = [];
    if (!dnsZoneId) {
      this.privateDnsZone = new PrivateDnsZone(this, 'dns-zone', { resourceGroupName: props.resourceGroupName, name: `${spec.name}.${zoneSuffix}`, tags });
      dependsOn.push(
        new PrivateDnsZoneVirtualNetworkLink(this, 'dns-link', {
          name: `${spec.name}-db`,
          resourceGroupName: props.resourceGroupName,
          privateDnsZoneName: this.privateDnsZone.name,
          virtualNetworkId: props.virtualNetworkId!,
          registrationEnabled: false,
          tags,
        }),
      );
      dnsZoneId = this.privateDnsZone.id;
    }
    const common = {
      ...placement,
      name: props.serverName ?? globalName(this, placement, spec, 'db'),
      administratorLogin: login,
      administratorPasswordWo: password.value,
      administratorPasswordWoVersion: passwordVersion,
      backupRetentionDays: db.backupRetentionDays,
      geoRedundantBackupEnabled: props.geoRedundantBackup ?? false,
      delegatedSubnetId: props.delegatedSubnetId,
      privateDnsZoneId: dnsZoneId,
      skuName: props.skuName ?? AZURE_DB_SKUS[db.engine][db.size],
      zone: props.zone ?? '1',
      highAvailability: { mode: 'ZoneRedundant', standbyAvailabilityZone: props.standbyZone ?? '2' },
      // After an HA failover the primary runs in the standby's zone: an apply must not move it back.
      lifecycle: { ignoreChanges: ['zone', 'high_availability[0].standby_availability_zone'] },
      tags,
      dependsOn,
    };
    if (db.engine === 'postgres') {
      const server = new PostgresqlFlexibleServer(this, 'server', {
        ...common,
        version: props.version ?? '16',
        storageMb: postgresStorageMb(db.storageGb),
        publicNetworkAccessEnabled: false,
        authentication: { passwordAuthEnabled: true, activeDirectoryAuthEnabled: false },
      });
      new PostgresqlFlexibleServerConfiguration(this, 'require-tls', { serverId: server.id, name: 'require_secure_transport', value: 'on' });
      new PostgresqlFlexibleServerConfiguration(this, 'min-tls', { serverId: server.id, name: 'ssl_min_protocol_version', value: 'TLSv1.2' });
      this.database = new PostgresqlFlexibleServerDatabase(this, 'database', { serverId: server.id, name: db.name, charset: 'UTF8', collation: 'en_US.utf8' });
      this.server = server;
    } else {
      const server = new MysqlFlexibleServer(this, 'server', {
        ...common,
        version: props.version ?? '8.0.21',
        storage: { sizeGb: db.storageGb, autoGrowEnabled: true },
        publicNetworkAccess: 'Disabled',
      });
      const cfg = { resourceGroupName: props.resourceGroupName, serverName: server.name };
      new MysqlFlexibleServerConfiguration(this, 'require-tls', { ...cfg, name: 'require_secure_transport', value: 'ON' });
      new MysqlFlexibleServerConfiguration(this, 'min-tls', { ...cfg, name: 'tls_version', value: 'TLSv1.2,TLSv1.3' });
      this.database = new MysqlFlexibleDatabase(this, 'database', { ...cfg, name: db.name, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' });
      this.server = server;
    }
    this.host = this.server.fqdn;
    this.port = DEFAULT_DATABASE_PORT[db.engine];
    this.guardDatabase = {
      url: databaseUrl(db.engine, login, this.server.fqdn, DEFAULT_DATABASE_PORT[db.engine], db.name, 'azure'),
      passwordSource: keyVaultSecretReference(this.passwordSecret.versionlessId),
    };

    const app = spec.profile.appDatabase;
    if (app) {
      // Like the admin password: evaluated at apply, written only to a write-only attribute.
      // The guard creates the user with it (as the admin) and sets it again after a bump.
      const appPassword = new TerraformLocal(this, 'app-password', Fn.join('', [Fn.upper(Fn.uuid()), Fn.uuid()]));
      this.appPasswordSecret = new KeyVaultSecret(this, 'app-password-secret', {
        name: `${spec.name}-db-${app.user.replace(/_/g, '-')}-password`,
        keyVaultId: this.keyVault.id,
        valueWo: appPassword.asString,
        valueWoVersion: props.appPasswordVersion ?? 1,
        contentType: `password of the app user ${app.user} on the ${spec.name} ${db.engine} server`,
        tags,
        dependsOn: [writer],
      });
      this.readerRoleAssignments.push(
        new RoleAssignment(this, 'reader-app-secrets-user', {
          scope: this.appPasswordSecret.resourceVersionlessId,
          roleDefinitionName: 'Key Vault Secrets User',
          principalId: props.readerPrincipalId!,
        }),
      );
      this.appDatabase = {
        url: databaseUrl(db.engine, app.user, this.server.fqdn, DEFAULT_DATABASE_PORT[db.engine], app.database, 'azure'),
        passwordSource: keyVaultSecretReference(this.appPasswordSecret.versionlessId),
      };
    }
  }

  /** The flexible server's Azure resource id; undefined for an existing database (`spec.database.existing`). */
  public get databaseId(): string | undefined {
    return this.server?.id;
  }
}

/** The smallest PostgreSQL Flexible Server storage size ≥ the spec's GB. */
export function postgresStorageMb(storageGb: number): number {
  const wanted = storageGb * 1024;
  return POSTGRES_STORAGE_MB.find((mb) => mb >= wanted) ?? POSTGRES_STORAGE_MB[POSTGRES_STORAGE_MB.length - 1];
}

/** Every problem of these props (AzureFailoverCluster checks them before it builds anything). */
export function databaseProblems(props: AzureDatabaseProps): Problem[] {
  const problems: Problem[] = [];
  const existing = props.spec.database.existing;
  if (existing) {
    const problem = secretReferenceProblem(existing.passwordSecretRef, 'database-password', 'azure');
    if (problem !== undefined) problems.push({ path: 'spec.database.existing.passwordSecretRef', message: problem });
    return problems;
  }
  for (const prop of ['delegatedSubnetId', 'virtualNetworkId', 'readerPrincipalId'] as const) {
    if (!props[prop]) problems.push({ path: prop, message: 'required unless spec.database.existing is set' });
  }
  const name = props.keyVaultName;
  if (name !== undefined && !isUnresolved(name) && !/^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(name)) {
    problems.push({ path: 'keyVaultName', message: `"${name}" must be 3–24 letters, digits and single dashes, starting with a letter` });
  }
  const server = props.serverName;
  if (server !== undefined && !isUnresolved(server) && !/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/.test(server)) {
    problems.push({ path: 'serverName', message: `"${server}" must be 3–63 lower-case letters, digits and dashes, not starting or ending with a dash` });
  }
  const login = props.administratorLogin;
  if (login !== undefined && (!/^[a-z][a-z0-9_]{0,62}$/.test(login) || ['admin', 'administrator', 'root', 'azure_superuser', 'azure_pg_admin', 'guest', 'public'].includes(login))) {
    problems.push({ path: 'administratorLogin', message: `"${login}" must be lower-case letters, digits and _ and not a reserved name (admin, root, …)` });
  }
  if (props.passwordVersion !== undefined && (!Number.isInteger(props.passwordVersion) || props.passwordVersion < 1)) {
    problems.push({ path: 'passwordVersion', message: 'must be a whole number ≥ 1' });
  }
  const appVersion = props.appPasswordVersion;
  if (appVersion !== undefined && (!Number.isInteger(appVersion) || appVersion < 1)) {
    problems.push({ path: 'appPasswordVersion', message: 'must be a whole number ≥ 1' });
  }
  const app = props.spec.profile.appDatabase;
  if (app && (app.user === (props.administratorLogin ?? 'fcadmin') || app.database === props.spec.database.name)) {
    problems.push({ path: 'spec.profile.appDatabase', message: `must differ from the admin login and the guard's database (${props.spec.database.name})` });
  }
  if ((props.zone ?? '1') === (props.standbyZone ?? '2')) {
    problems.push({ path: 'standbyZone', message: `must differ from zone (${props.zone ?? '1'}) for zone-redundant HA` });
  }
  return problems;
}
