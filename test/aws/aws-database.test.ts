import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { databaseUrl } from '../../lib/contracts/database-url';
import { AwsDatabase, parameterGroupFamily } from '../../lib/aws/aws-database';
import { all, errorOf, NET, one, papercutSpec, synth } from './aws-test-support';
import { papercut, parseClusterSpec } from '../../lib/spec';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pc-db-AbCdEf';
const base = { vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] };

describe('AwsDatabase', () => {
  it("the app user's password: generated at apply into a Secrets Manager secret, write-only, and the app database described", () => {
    // given / when
    let app: AwsDatabase['appDatabase'];
    const json = synth((s) => {
      app = new AwsDatabase(s, 'db', { ...base, spec: papercutSpec(), appPasswordVersion: 2 }).appDatabase;
    });
    // then
    const secret = one(json, 'aws_secretsmanager_secret');
    expect(secret.name_prefix).toBe('pc-papercut_app-');
    const version = one(json, 'aws_secretsmanager_secret_version');
    expect(version.secret_string).toBeUndefined();
    expect(version.secret_string_wo).toMatch(/^\$\{local\./);
    expect(version.secret_string_wo_version).toBe(2);
    expect(Object.values(json.locals as Record<string, string>)).toEqual(['${join("", [upper(uuid()), uuid()])}']);
    expect(app?.url).toMatch(/^postgres:\/\/papercut_app@\$\{TfToken\[.*\]\}:5432\/papercut_app\?sslmode=verify-full&sslrootcert=rds$/);
    expect(app?.passwordSource).toMatch(/^aws-secretsmanager:\$\{TfToken/);
  });

  it('refuses an app database that is the master user or the guard database, and a bad app password version', () => {
    const spec = parseClusterSpec({ name: 'pc', profile: papercut({ appDatabaseUser: 'papercut' }) });
    expect(errorOf((s) => new AwsDatabase(s, 'db', { ...base, spec, appPasswordVersion: 1.5 }))).toMatch(
      /appPasswordVersion: must be a whole number ≥ 1[\s\S]*spec.profile.appDatabase: must differ from the master user \(papercut\) and the guard's database \(papercut\)/,
    );
  });

  it('defaults: RDS PostgreSQL, Multi-AZ, encrypted, private, TLS forced, managed password, protected, backups 7 days', () => {
    // given / when
    let guardUrl = '';
    let source = '';
    const json = synth((s) => {
      const db = new AwsDatabase(s, 'db', { ...base, spec: papercutSpec() });
      guardUrl = db.guardDatabase.url;
      source = db.guardDatabase.passwordSource;
    });
    // then
    const db = one(json, 'aws_db_instance');
    expect(db).toMatchObject({
      engine: 'postgres',
      engine_version: '17',
      instance_class: 'db.t4g.medium',
      multi_az: true,
      storage_encrypted: true,
      publicly_accessible: false,
      manage_master_user_password: true,
      deletion_protection: true,
      backup_retention_period: 7,
      skip_final_snapshot: false,
      db_name: 'papercut',
      username: 'papercut',
      port: 5432,
      allocated_storage: 20,
    });
    expect(db.password).toBeUndefined();
    expect(one(json, 'aws_db_parameter_group')).toMatchObject({ family: 'postgres17', parameter: [{ name: 'rds.force_ssl', value: '1' }] });
    expect(one(json, 'aws_db_subnet_group').subnet_ids).toEqual(NET.subnetIds);
    expect(guardUrl).toMatch(/^postgres:\/\/papercut@\$\{TfToken\[.*\]\}:5432\/papercut\?sslmode=verify-full&sslrootcert=rds$/);
    expect(source).toMatch(/^aws-secretsmanager:\$\{TfToken/);
    // no rule until a client is allowed
    expect(all(json, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
  });

  it('MySQL: require_secure_transport, port 3306, mysql8.4 family', () => {
    const json = synth((s) => new AwsDatabase(s, 'db', { ...base, spec: papercutSpec({ database: { engine: 'mysql' } }) }));
    expect(one(json, 'aws_db_instance')).toMatchObject({ engine: 'mysql', engine_version: '8.4', port: 3306 });
    expect(one(json, 'aws_db_parameter_group')).toMatchObject({ family: 'mysql8.4', parameter: [{ name: 'require_secure_transport', value: 'ON' }] });
  });

  it('spec size, storage and retention; instanceClass, engineVersion, masterUsername props', () => {
    // given
    const spec = papercutSpec({ database: { size: 'large', storageGb: 100, backupRetentionDays: 14, name: 'pcdb' } });
    // when
    const sized = synth((s) => new AwsDatabase(s, 'db', { ...base, spec }));
    const custom = synth((s) => new AwsDatabase(s, 'db', { ...base, spec, instanceClass: 'db.r7g.large', engineVersion: '16.4', masterUsername: 'guard' }));
    // then
    expect(one(sized, 'aws_db_instance')).toMatchObject({ instance_class: 'db.m7g.xlarge', allocated_storage: 100, backup_retention_period: 14, db_name: 'pcdb' });
    expect(one(custom, 'aws_db_instance')).toMatchObject({ instance_class: 'db.r7g.large', engine_version: '16.4', username: 'guard' });
    expect(one(custom, 'aws_db_parameter_group').family).toBe('postgres16');
  });

  it('allowFrom: app security group → database port, nothing else', () => {
    // when
    const json = synth((s) => {
      const app = new SecurityGroup(s, 'app', { vpcId: NET.vpcId });
      new AwsDatabase(s, 'db', { ...base, spec: papercutSpec() }).allowFrom(app.id);
    });
    // then
    const ingress = one(json, 'aws_vpc_security_group_ingress_rule');
    const egress = one(json, 'aws_vpc_security_group_egress_rule');
    for (const r of [ingress, egress]) expect(r).toMatchObject({ ip_protocol: 'tcp', from_port: 5432, to_port: 5432 });
    expect(ingress.referenced_security_group_id).toContain('aws_security_group.app.id');
    expect(egress.security_group_id).toContain('aws_security_group.app.id');
  });

  it('existing database: creates nothing, guard settings from the spec, egress to the VPC', () => {
    // given
    const spec = papercutSpec({ database: { existing: { host: 'db.corp.example.com', username: 'pc', passwordSecretRef: `aws-secretsmanager:${SECRET}` } } });
    let db!: AwsDatabase;
    // when
    const json = synth((s) => {
      const app = new SecurityGroup(s, 'app', { vpcId: NET.vpcId });
      db = new AwsDatabase(s, 'db', { ...base, spec, existingDatabaseCidr: '10.9.0.0/24' });
      db.allowFrom(app.id);
    });
    // then
    expect(json.resource.aws_db_instance).toBeUndefined();
    expect(db.guardDatabase).toEqual({ url: 'postgres://pc@db.corp.example.com:5432/papercut?sslmode=verify-full', passwordSource: `aws-secretsmanager:${SECRET}` });
    expect(db.secretArn).toBe(SECRET);
    expect(one(json, 'aws_vpc_security_group_egress_rule')).toMatchObject({ cidr_ipv4: '10.9.0.0/24', from_port: 5432 });
  });

  it('databaseUrl and parameterGroupFamily', () => {
    expect(databaseUrl('mysql', 'a b', 'h', 3306, 'd')).toBe('mysql://a%20b@h:3306/d?ssl-mode=VERIFY_IDENTITY');
    expect(databaseUrl('mysql', 'u', 'h', 3306, 'd', 'rds')).toBe('mysql://u@h:3306/d?ssl-mode=VERIFY_IDENTITY&ssl-ca=rds');
    expect(parameterGroupFamily('mysql', '8.0.39')).toBe('mysql8.0');
    expect(parameterGroupFamily('postgres', '16.4')).toBe('postgres16');
  });

  describe('validation (each message names the prop)', () => {
    it.each([
      ['subnetIds', () => ({ ...base, subnetIds: ['subnet-1'], spec: papercutSpec() })],
      ['engineVersion', () => ({ ...base, engineVersion: 'latest', spec: papercutSpec() })],
      ['masterUsername', () => ({ ...base, masterUsername: 'postgres', spec: papercutSpec() })],
      ['instanceClass', () => ({ ...base, instanceClass: 't3.micro', spec: papercutSpec() })],
      [
        'spec.database.existing.passwordSecretRef',
        () => ({ ...base, spec: papercutSpec({ database: { existing: { host: 'h', username: 'u', passwordSecretRef: 'azure-keyvault:https://kv/secrets/x' } } }) }),
      ],
    ])('%s', (prop, props) => {
      const p = props();
      expect(errorOf((s) => new AwsDatabase(s, 'db', p))).toContain(`${prop}:`);
    });
  });
});
