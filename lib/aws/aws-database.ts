import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Fn, TerraformLocal } from 'cdktf';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { Construct } from 'constructs';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import type { GuardDatabaseSettings } from '../contracts/guard-settings';
import { throwIfProblems } from '../problems/problems';
import { isKnown } from '../contracts/tokens';
import { allowTcp, awsName, awsTags, subnetProblems, vpcCidrOf } from './aws-support';
import { DEFAULT_DATABASE_PORT, databaseUrl } from '../contracts/database-url';
import { requireWriteOnlyArguments } from '../synth/terraform-version';
import { awsSecretReference, secretReferenceProblem, secretsManagerArn } from '../contracts/secret-reference';

/** Properties of an {@link AwsDatabase}. */
export interface AwsDatabaseProps {
  /** The parsed cluster spec (`spec.database`: engine, size, storage, backups, or an existing database). */
  readonly spec: ClusterSpec;
  /** VPC of the database. */
  readonly vpcId: string;
  /** Private subnets (two or more, in different availability zones) for the DB subnet group. */
  readonly subnetIds: readonly string[];
  /**
   * RDS instance class.
   * @default 'db.t4g.medium' (small), 'db.m7g.large' (medium), 'db.m7g.xlarge' (large)
   */
  readonly instanceClass?: string;
  /**
   * Major (PostgreSQL) or major.minor (MySQL) version; also picks the parameter group family.
   * @default '17' (PostgreSQL), '8.4' (MySQL)
   */
  readonly engineVersion?: string;
  /**
   * Master user name; the guard and the app connect as this user.
   * @default the database name (first 16 characters, MySQL's limit)
   */
  readonly masterUsername?: string;
  /**
   * Where an existing database lives, for the app servers' egress rule (existing databases keep
   * their own security groups; open them to the app servers yourself).
   * @default the VPC's CIDR
   */
  readonly existingDatabaseCidr?: string;
  /**
   * Bump to generate a new app password (profiles with `appDatabase`): the secret gets a new
   * value at the next apply and the app's next start (a step-down) sets it on the database.
   * @default 1
   */
  readonly appPasswordVersion?: number;
}

const INSTANCE_CLASS = { small: 'db.t4g.medium', medium: 'db.m7g.large', large: 'db.m7g.xlarge' } as const;
const DEFAULT_VERSION = { postgres: '17', mysql: '8.4' } as const;

/**
 * The guard's (and the app's) database: RDS PostgreSQL or MySQL, Multi-AZ, encrypted, private,
 * TLS enforced by the parameter group, master password generated and kept by RDS in Secrets
 * Manager (never in configuration or state), deletion protection on, backups kept ≥ 7 days.
 * With `spec.database.existing` nothing is created: the construct only describes that database.
 */
export class AwsDatabase extends Construct {
  /** The RDS instance (undefined for an existing database). */
  public readonly instance?: DbInstance;
  /** Security group of the RDS instance; clients are let in with {@link allowFrom}. Undefined for an existing database. */
  public readonly securityGroup?: SecurityGroup;
  /** The DB subnet group; undefined for an existing database. */
  public readonly subnetGroup?: DbSubnetGroup;
  /** The parameter group that enforces TLS; undefined for an existing database. */
  public readonly parameterGroup?: DbParameterGroup;
  /** The database's host name (the RDS endpoint address, or `spec.database.existing.host`). */
  public readonly host: string;
  /** The database's port. */
  public readonly port: number;
  /** The user the guard connects as (the master user, or `spec.database.existing.username`). */
  public readonly username: string;
  /** ARN of the Secrets Manager secret holding the password, when it is one. */
  public readonly secretArn?: string;
  /** What the guard's config says about this database (URL without password, password source). */
  public readonly guardDatabase: GuardDatabaseSettings;
  /** The app's own user (profiles with `appDatabase`): URL without password and its secret. */
  public readonly appDatabase?: GuardDatabaseSettings;
  /** Secrets Manager secret of the app user's password (generated at apply time, write-only). */
  public readonly appSecret?: SecretsmanagerSecret;
  private readonly spec: ClusterSpec;
  private readonly vpcId: string;
  private readonly existingCidr?: string;
  private clients = 0;

  constructor(scope: Construct, id: string, props: AwsDatabaseProps) {
    super(scope, id);
    // passwords and keys go through write-only arguments (`*_wo`): Terraform ≥ 1.11
    requireWriteOnlyArguments(this);
    const { spec } = props;
    const db = spec.database;
    throwIfProblems(this.node.path, databaseProblems(props));
    this.spec = spec;
    this.vpcId = props.vpcId;
    this.existingCidr = props.existingDatabaseCidr;

    let passwordSource: string;
    if (db.existing) {
      this.host = db.existing.host;
      this.port = db.existing.port ?? DEFAULT_DATABASE_PORT[db.engine];
      this.username = db.existing.username;
      this.secretArn = secretsManagerArn(db.existing.passwordSecretRef);
      passwordSource = db.existing.passwordSecretRef;
    } else {
      const version = props.engineVersion ?? DEFAULT_VERSION[db.engine];
      const identifier = awsName(spec.name, 'db', 63);
      const tags = awsTags(spec);
      this.securityGroup = new SecurityGroup(this, 'sg', {
        name: awsName(spec.name, 'db', 255),
        description: `${spec.name}: app servers to the database`,
        vpcId: props.vpcId,
        tags: awsTags(spec, `${spec.name}-db`),
      });
      this.subnetGroup = new DbSubnetGroup(this, 'subnets', { name: identifier, subnetIds: [...props.subnetIds], tags });
      this.parameterGroup = new DbParameterGroup(this, 'params', {
        name: identifier,
        family: parameterGroupFamily(db.engine, version),
        description: `${spec.name}: TLS only`,
        parameter: [db.engine === 'postgres' ? { name: 'rds.force_ssl', value: '1' } : { name: 'require_secure_transport', value: 'ON' }],
        tags,
      });
      this.instance = new DbInstance(this, 'instance', {
        identifier,
        engine: db.engine,
        engineVersion: version,
        instanceClass: props.instanceClass ?? INSTANCE_CLASS[db.size],
        allocatedStorage: db.storageGb,
        storageType: 'gp3',
        storageEncrypted: true,
        multiAz: true,
        publiclyAccessible: false,
        dbName: db.name,
        username: masterUsername(props),
        manageMasterUserPassword: true,
        dbSubnetGroupName: this.subnetGroup.name,
        parameterGroupName: this.parameterGroup.name,
        vpcSecurityGroupIds: [this.securityGroup.id],
        port: DEFAULT_DATABASE_PORT[db.engine],
        backupRetentionPeriod: db.backupRetentionDays,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        copyTagsToSnapshot: true,
        autoMinorVersionUpgrade: true,
        tags,
      });
      this.host = this.instance.address;
      this.port = DEFAULT_DATABASE_PORT[db.engine];
      this.username = masterUsername(props);
      this.secretArn = this.instance.masterUserSecret.get(0).secretArn;
      passwordSource = awsSecretReference(this.secretArn);
    }
    // verify-full with the RDS bundle for the instance made here; by host name for one brought in
    const ca = db.existing ? undefined : 'rds';
    this.guardDatabase = { url: databaseUrl(db.engine, this.username, this.host, this.port, db.name, ca), passwordSource };

    const app = spec.profile.appDatabase;
    if (app) {
      this.appSecret = new SecretsmanagerSecret(this, 'app-secret', {
        namePrefix: `${spec.name}-${app.user}-`,
        description: `${spec.name}: password of the app's database user ${app.user} (the guard sets it on the database)`,
        recoveryWindowInDays: 7,
        tags: awsTags(spec),
      });
      // Evaluated once per apply and fed only to a write-only attribute: never in the plan, the
      // state or the synthesized JSON. Two UUIDs: ≥ 244 random bits, only [0-9A-Fa-f-], safe in
      // any connection string and properties file.
      const password = new TerraformLocal(this, 'app-password', Fn.join('', [Fn.upper(Fn.uuid()), Fn.uuid()]));
      new SecretsmanagerSecretVersion(this, 'app-secret-value', {
        secretId: this.appSecret.id,
        secretStringWo: password.asString,
        secretStringWoVersion: props.appPasswordVersion ?? 1,
      });
      this.appDatabase = {
        url: databaseUrl(db.engine, app.user, this.host, this.port, app.database, ca),
        passwordSource: awsSecretReference(this.appSecret.arn),
      };
    }
  }

  /**
   * Lets a security group reach the database port: an egress rule on it and an ingress rule on
   * the database's group (for an existing database only the egress rule, to its CIDR).
   */
  public allowFrom(securityGroupId: string): void {
    const id = `client-${this.clients++}`;
    const description = `${this.spec.name}: app servers to the database`;
    if (this.securityGroup) {
      allowTcp(this, id, { from: securityGroupId, to: this.securityGroup.id, port: this.port, description });
    } else {
      new VpcSecurityGroupEgressRule(this, `${id}-egress`, {
        securityGroupId,
        cidrIpv4: vpcCidrOf(this, this.vpcId, this.existingCidr),
        ipProtocol: 'tcp',
        fromPort: this.port,
        toPort: this.port,
        description,
      });
    }
  }

  /** The RDS instance's ARN; undefined for an existing database (`spec.database.existing`). */
  public get databaseArn(): string | undefined {
    return this.instance?.arn;
  }

  /** The RDS DB instance identifier; undefined for an existing database (`spec.database.existing`). */
  public get databaseId(): string | undefined {
    return this.instance?.identifier;
  }
}

function masterUsername(props: AwsDatabaseProps): string {
  return props.masterUsername ?? props.spec.database.name.slice(0, 16);
}

/** RDS parameter group family: `postgres17`, `mysql8.4`. */
export function parameterGroupFamily(engine: 'postgres' | 'mysql', version: string): string {
  const parts = version.split('.');
  return engine === 'postgres' ? `postgres${parts[0]}` : `mysql${parts[0]}.${parts[1]}`;
}

/** Every problem of these props (AwsFailoverCluster checks them before it builds anything). */
export function databaseProblems(props: AwsDatabaseProps): Problem[] {
  const db = props.spec.database;
  const problems: Problem[] = [];
  if (db.existing) {
    const problem = secretReferenceProblem(db.existing.passwordSecretRef, 'database-password', 'aws');
    if (problem !== undefined) problems.push({ path: 'spec.database.existing.passwordSecretRef', message: problem });
    return problems;
  }
  problems.push(...subnetProblems('subnetIds', props.subnetIds));
  const version = props.engineVersion;
  if (isKnown(version) && !(db.engine === 'postgres' ? /^\d+(\.\d+)?$/ : /^\d+\.\d+(\.\d+)?$/).test(version)) {
    problems.push({ path: 'engineVersion', message: db.engine === 'postgres' ? 'must be a PostgreSQL version such as "17" or "16.4"' : 'must be a MySQL version such as "8.4" or "8.0.39"' });
  }
  const user = props.masterUsername;
  if (isKnown(user) && (!/^[a-zA-Z][a-zA-Z0-9_]{0,15}$/.test(user) || ['postgres', 'rdsadmin', 'admin', 'root'].includes(user.toLowerCase()))) {
    problems.push({ path: 'masterUsername', message: 'must be 1–16 letters, digits or _, start with a letter, and not be a reserved name (postgres, rdsadmin, admin, root)' });
  }
  const v = props.appPasswordVersion;
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) problems.push({ path: 'appPasswordVersion', message: 'must be a whole number ≥ 1' });
  const app = props.spec.profile.appDatabase;
  if (app && (app.user === masterUsername(props) || app.database === db.name)) {
    problems.push({ path: 'spec.profile.appDatabase', message: `must differ from the master user (${masterUsername(props)}) and the guard's database (${db.name})` });
  }
  if (isKnown(props.instanceClass) && !/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(props.instanceClass)) {
    problems.push({ path: 'instanceClass', message: 'must be an RDS instance class such as "db.t4g.medium"' });
  }
  return problems;
}
