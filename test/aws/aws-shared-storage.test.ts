import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { AwsSharedStorage } from '../../lib/aws/aws-shared-storage';
import { papercut } from '../../lib/spec';
import { all, errorOf, NET, one, papercutSpec, synth } from './aws-test-support';

const base = { vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] };
const SMB_SECRET = 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-AbCdEf';
const smbSpec = () => papercutSpec({ storage: { kind: 'smb', credentialsSecretRef: SMB_SECRET } });

describe('AwsSharedStorage', () => {
  it('NFS default: encrypted EFS, a mount target per subnet, TLS-only policy, backups on', () => {
    // given / when
    let storage!: AwsSharedStorage;
    const json = synth((s) => (storage = new AwsSharedStorage(s, 'share', { ...base, spec: papercutSpec() })));
    // then
    expect(one(json, 'aws_efs_file_system')).toMatchObject({ encrypted: true, throughput_mode: 'elastic' });
    expect(all(json, 'aws_efs_mount_target').map((m) => m.subnet_id)).toEqual(NET.subnetIds);
    const policy = JSON.parse(one(json, 'aws_efs_file_system_policy').policy);
    const deny = policy.Statement.find((st: any) => st.Effect === 'Deny');
    expect(deny).toMatchObject({ Action: '*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(one(json, 'aws_efs_backup_policy').backup_policy.status).toBe('ENABLED');
    expect(storage.port).toBe(2049);
    expect(storage.mount.kind).toBe('efs');
    expect(json.resource.aws_fsx_windows_file_system).toBeUndefined();
  });

  it('SMB: FSx for Windows in the given directory, Multi-AZ, backups, credentials secret ARN', () => {
    // given / when
    let storage!: AwsSharedStorage;
    const json = synth((s) => (storage = new AwsSharedStorage(s, 'share', { ...base, spec: smbSpec(), activeDirectoryId: 'd-1234567890', fsxThroughputMbps: 64 })));
    // then
    expect(one(json, 'aws_fsx_windows_file_system')).toMatchObject({
      active_directory_id: 'd-1234567890',
      deployment_type: 'MULTI_AZ_1',
      subnet_ids: NET.subnetIds,
      storage_capacity: 100,
      throughput_capacity: 64,
      automatic_backup_retention_days: 7,
    });
    expect(storage.port).toBe(445);
    expect(storage.mount).toMatchObject({ kind: 'smb', credentialsSecretRef: SMB_SECRET });
    expect(storage.credentialsSecretArn).toBe(SMB_SECRET.replace('aws-secretsmanager:', ''));
    expect(json.resource.aws_efs_file_system).toBeUndefined();
  });

  it.each([
    ['nfs', 2049],
    ['smb', 445],
  ] as const)('allowFrom (%s): app security group → %d only', (kind, port) => {
    const json = synth((s) => {
      const app = new SecurityGroup(s, 'app', { vpcId: NET.vpcId });
      const spec = kind === 'nfs' ? papercutSpec() : smbSpec();
      new AwsSharedStorage(s, 'share', { ...base, spec, activeDirectoryId: 'd-1234567890' }).allowFrom(app.id);
    });
    const fromApp = (type: string) => all(json, type).filter((r) => String(r.security_group_id).includes('aws_security_group.app') || String(r.referenced_security_group_id).includes('aws_security_group.app'));
    for (const type of ['aws_vpc_security_group_ingress_rule', 'aws_vpc_security_group_egress_rule']) {
      expect(fromApp(type)).toEqual([expect.objectContaining({ ip_protocol: 'tcp', from_port: port, to_port: port })]);
    }
  });

  it('FSx may reach the Active Directory domain controllers (egress to the directory security group), before it is created', () => {
    // given / when
    const json = synth((s) => new AwsSharedStorage(s, 'share', { ...base, spec: smbSpec(), activeDirectoryId: 'd-1234567890' }));
    // then
    expect(one(json, 'aws_directory_service_directory', 'data').directory_id).toBe('d-1234567890');
    const egress = one(json, 'aws_vpc_security_group_egress_rule');
    expect(egress).toMatchObject({ ip_protocol: '-1' });
    expect(egress.security_group_id).toMatch(/^\$\{aws_security_group\.share_sg_\w+\.id\}$/);
    expect(egress.referenced_security_group_id).toMatch(/^\$\{data\.aws_directory_service_directory\.\w+\.security_group_id\}$/);
    expect(one(json, 'aws_fsx_windows_file_system').depends_on).toEqual([expect.stringMatching(/^aws_vpc_security_group_egress_rule\./)]);
  });

  describe('validation (each message names the prop)', () => {
    it.each([
      ['subnetIds', () => ({ ...base, subnetIds: [NET.subnetIds[0]], spec: papercutSpec() })],
      ['activeDirectoryId', () => ({ ...base, spec: smbSpec() })],
      ['fsxThroughputMbps', () => ({ ...base, spec: smbSpec(), activeDirectoryId: 'd-1234567890', fsxThroughputMbps: 100 })],
      ['spec.storage.credentialsSecretRef', () => ({ ...base, spec: papercutSpec({ storage: { kind: 'smb', credentialsSecretRef: 'azure-keyvault:https://kv.vault.azure.net/secrets/smb' } }), activeDirectoryId: 'd-1234567890' })],
    ])('%s', (prop, props) => {
      const p = props();
      expect(errorOf((s) => new AwsSharedStorage(s, 'share', p))).toContain(`${prop}:`);
    });
  });
});

describe('AwsSharedStorage backups: deploy review', () => {
  const efs = (backup?: boolean) => synth((s) => new AwsSharedStorage(s, 'share', { spec: papercutSpec(), vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], backup }));
  const fsx = (backup?: boolean) =>
    synth((s) => new AwsSharedStorage(s, 'share', { spec: papercutSpec({ profile: papercut({ os: 'windows' }), storage: { kind: 'smb' } }), vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], activeDirectoryId: 'd-1234567890', backup }));

  it('backs the share up by default: EFS automatic backups on, FSx backups kept 7 days', () => {
    expect(one(efs(), 'aws_efs_backup_policy').backup_policy).toEqual({ status: 'ENABLED' });
    expect(one(fsx(), 'aws_fsx_windows_file_system').automatic_backup_retention_days).toBe(7);
  });

  it('backup: false opts out', () => {
    expect(one(efs(false), 'aws_efs_backup_policy').backup_policy).toEqual({ status: 'DISABLED' });
    expect(one(fsx(false), 'aws_fsx_windows_file_system').automatic_backup_retention_days).toBe(0);
  });
});
