import { createHash } from 'crypto';
import { AWS_NODE_PLATFORM } from '../../lib/aws/aws-node-platform';
import type { Construct } from 'constructs';
import { AwsAppServers, HANDOVER_HOOK_NAME, withInstallCommands, type AwsAppServersProps } from '../../lib/aws/aws-app-servers';
import { EC2_USER_DATA_MAX_BYTES } from '../../lib/aws/aws-node-template';
import { userDataBytes } from '../../lib/synth/user-data';
import { AwsDatabase } from '../../lib/aws/aws-database';
import { AwsGuardAsset } from '../../lib/aws/aws-guard-asset';
import { AwsLoadBalancer } from '../../lib/aws/aws-load-balancer';
import { AwsSharedStorage } from '../../lib/aws/aws-shared-storage';
import { GUARD_KEYS, guardSettings } from '../../lib/contracts/guard-settings';
import { papercut, type ClusterSpec } from '../../lib/spec';
import { all, errorOf, FIXTURE_BINARY, NET, one, papercutSpec, synth } from './aws-test-support';

const SMB_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:smb-AbCdEf';

function build(s: Construct, spec: ClusterSpec, extra: Partial<AwsAppServersProps> = {}): AwsAppServers {
  const net = { spec, vpcId: NET.vpcId, subnetIds: [...NET.subnetIds] };
  const loadBalancer = new AwsLoadBalancer(s, 'lb', { ...net, vpcCidr: NET.vpcCidr });
  const database = new AwsDatabase(s, 'db', net);
  const storage = new AwsSharedStorage(s, 'share', { ...net, activeDirectoryId: 'd-1234567890' });
  const guardAsset = new AwsGuardAsset(s, 'guard', { spec, binaryPath: FIXTURE_BINARY });
  return new AwsAppServers(s, 'app', { ...net, loadBalancer, database, storage, guardAsset, ...extra });
}

describe('AwsAppServers', () => {
  it('defaults: fixed-size group with EC2 health checks in every target group; IMDSv2, encrypted root, no key pair', () => {
    // given / when
    let app!: AwsAppServers;
    const json = synth((s) => (app = build(s, papercutSpec())));
    // then
    const asg = one(json, 'aws_autoscaling_group');
    expect(asg).toMatchObject({ min_size: 2, max_size: 4, desired_capacity: 2, health_check_type: 'EC2', vpc_zone_identifier: NET.subnetIds });
    expect(asg.target_group_arns).toHaveLength(3);
    const lt = one(json, 'aws_launch_template');
    expect(lt.metadata_options).toMatchObject({ http_tokens: 'required', http_endpoint: 'enabled' });
    expect(lt.block_device_mappings[0]).toMatchObject({ device_name: '/dev/xvda', ebs: { encrypted: 'true', volume_type: 'gp3', volume_size: 30 } });
    expect(lt.key_name).toBeUndefined();
    expect(lt.instance_type).toBe('m7i.large');
    expect(lt.image_id).toMatch(/data\.aws_ssm_parameter\..*\.insecure_value/);
    expect(one(json, 'aws_ssm_parameter', 'data').name).toBe('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
    expect(lt.user_data).toMatch(/^\$\{base64gzip\(/);
    expect(app.userData).toMatch(/^#!\/bin\/bash/);
    expect(app.bootContext.share?.kind).toBe('efs');
    expect(app.bootContext.platform).toBe(AWS_NODE_PLATFORM);
    expect(app.userData).toContain(`GUARD_S3_URI='s3://`);
  });

  it('role: SSM core, s3:GetObject on exactly the guard object, GetSecretValue on exactly the DB secrets (master, app user)', () => {
    // given / when
    const json = synth((s) => build(s, papercutSpec()));
    // then
    expect(one(json, 'aws_iam_role_policy_attachment').policy_arn).toMatch(/:iam::aws:policy\/AmazonSSMManagedInstanceCore$/);
    const statements = JSON.parse(one(json, 'aws_iam_role_policy').policy).Statement;
    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    expect(statements[0].Resource).toMatch(/^\$\{aws_s3_bucket\.guard_bucket_.*\.arn\}\/failover-guard\/[0-9a-f]{64}\/failover-guard-fixture\.gz$/);
    expect(statements[1]).toMatchObject({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue' });
    // the master secret (the guard) and the app user's secret (the hooks)
    expect(statements[1].Resource).toEqual([expect.stringMatching(/aws_db_instance\..*\.master_user_secret\[0\]\.secret_arn/), expect.stringMatching(/^\$\{aws_secretsmanager_secret\..*app-secret.*\.arn\}$/)]);
    expect(statements[2]).toMatchObject({ Effect: 'Allow', Action: 'autoscaling:CompleteLifecycleAction' });
    expect(statements[2].Resource).toMatch(/^arn:\$\{data\.aws_partition\.[^}]+\}:autoscaling:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:autoScalingGroup:\*:autoScalingGroupName\/pc-nodes$/);
    for (const st of statements.slice(0, 2)) expect(JSON.stringify(st.Resource)).not.toContain('*');
  });

  it('security groups: LB → app ports and guard port, app → DB port and NFS, HTTPS out; nothing else', () => {
    // given / when
    const json = synth((s) => build(s, papercutSpec()));
    // then
    const group = (ref: string) => ['lb_sg', 'app_nodes_sg', 'db_sg', 'share_sg'].find((g) => ref.includes(`.${g}_`));
    const ingress = all(json, 'aws_vpc_security_group_ingress_rule').map((r) => `${group(r.security_group_id)}:${r.from_port}`);
    expect(ingress.sort()).toEqual(
      ['app_nodes_sg:9191', 'app_nodes_sg:9192', 'app_nodes_sg:9193', 'app_nodes_sg:9180', 'db_sg:5432', 'share_sg:2049', 'lb_sg:9191', 'lb_sg:9192', 'lb_sg:9193'].sort(),
    );
    // the app ports are reachable from the load balancer's group only
    for (const r of all(json, 'aws_vpc_security_group_ingress_rule').filter((r) => group(r.security_group_id) === 'app_nodes_sg')) {
      expect(group(r.referenced_security_group_id)).toBe('lb_sg');
    }
    const egress = all(json, 'aws_vpc_security_group_egress_rule').map((r) => r.from_port).sort();
    expect(egress).toEqual([2049, 443, 5432, 9180, 9191, 9192, 9193].sort());
    const open = all(json, 'aws_vpc_security_group_egress_rule').filter((r) => r.cidr_ipv4 === '0.0.0.0/0');
    expect(open.map((r) => r.from_port)).toEqual([443]);
    for (const r of all(json, 'aws_vpc_security_group_ingress_rule')) expect(r.cidr_ipv4).not.toBe('0.0.0.0/0');
    expect(JSON.stringify(json)).not.toMatch(/"from_port":\s*22\b/);
  });

  it('SMB on Windows: 445, the credentials secret, the Windows image, PowerShell user data', () => {
    // given
    const spec = papercutSpec({ profile: papercut({ os: 'windows' }), storage: { credentialsSecretRef: `aws-secretsmanager:${SMB_SECRET}` } });
    // when
    let app!: AwsAppServers;
    const json = synth((s) => (app = build(s, spec)));
    // then
    expect(one(json, 'aws_ssm_parameter', 'data').name).toContain('Windows_Server-2022');
    expect(one(json, 'aws_launch_template').block_device_mappings[0]).toMatchObject({ device_name: '/dev/sda1', ebs: { volume_size: 60 } });
    expect(app.userData).toMatch(/^<powershell>\n[\s\S]*<\/powershell>\n$/);
    const secrets = JSON.parse(one(json, 'aws_iam_role_policy').policy).Statement[1].Resource;
    expect(secrets).toContain(SMB_SECRET);
    expect(all(json, 'aws_vpc_security_group_egress_rule').map((r) => r.from_port)).toContain(445);
  });

  it('props: imageId, instanceType, rootVolumeGb, rootDeviceName, httpsEgressCidrs, installCommands, healthCheckGracePeriodSecs', () => {
    // given / when
    let app!: AwsAppServers;
    const json = synth(
      (s) =>
        (app = build(s, papercutSpec({ nodeCount: 3 }), {
          imageId: 'ami-0123456789abcdef0',
          instanceType: 't3.large',
          rootVolumeGb: 50,
          rootDeviceName: '/dev/sda1',
          httpsEgressCidrs: ['10.0.0.0/8'],
          installCommands: ['dnf install -y java-17-amazon-corretto', '/opt/install-papercut.sh'],
          healthCheckGracePeriodSecs: 600,
        })),
    );
    // then
    expect(one(json, 'aws_launch_template')).toMatchObject({ image_id: 'ami-0123456789abcdef0', instance_type: 't3.large' });
    expect(json.data?.aws_ssm_parameter).toBeUndefined();
    expect(one(json, 'aws_launch_template').block_device_mappings[0]).toMatchObject({ device_name: '/dev/sda1', ebs: { volume_size: 50, encrypted: 'true' } });
    expect(one(json, 'aws_autoscaling_group')).toMatchObject({ min_size: 3, max_size: 6, desired_capacity: 3, health_check_grace_period: 600 });
    expect(all(json, 'aws_vpc_security_group_egress_rule').filter((r) => r.from_port === 443).map((r) => r.cidr_ipv4)).toEqual(['10.0.0.0/8']);
    expect(app.userData).toMatch(/^#!\/bin\/bash\n# install commands[^\n]*\nset -euo pipefail\ndnf install -y java-17-amazon-corretto\n\/opt\/install-papercut.sh\n/);
  });

  it('the guard config gets the health check as AWS runs it (timeout rounded up)', () => {
    // given
    const spec = papercutSpec({ healthCheck: { intervalSecs: 10, timeoutSecs: 4.2 }, guard: { failOverIntervalSecs: 60 } });
    // when
    let app!: AwsAppServers;
    synth((s) => (app = build(s, spec)));
    // then
    expect(app.effectiveSpec.healthCheck).toEqual({ intervalSecs: 10, timeoutSecs: 5, healthyThreshold: 2, unhealthyThreshold: 2 });
    const settings = new Map(guardSettings(app.effectiveSpec, app.bootContext.database));
    expect(settings.get(GUARD_KEYS.lbTimeoutSecs)).toBe('5');
    expect(settings.get(GUARD_KEYS.lbIntervalSecs)).toBe('10');
    expect(settings.get(GUARD_KEYS.drainSecs)).toBe('25');
  });

  it('withInstallCommands: none leaves the Linux script as is; Windows is wrapped once', () => {
    expect(withInstallCommands('linux', '#!/bin/bash\necho hi\n', [])).toBe('#!/bin/bash\necho hi\n');
    expect(withInstallCommands('windows', 'x', [])).toBe('<powershell>\nx\n</powershell>\n');
    expect(withInstallCommands('windows', 'x', ['choco install y'])).toBe("<powershell>\n$ErrorActionPreference = 'Stop'\nchoco install y\nx\n</powershell>\n");
  });

  describe('validation (each message names the prop)', () => {
    it.each([
      ['subnetIds', { subnetIds: ['subnet-1'] }],
      ['imageId', { imageId: 'ubuntu' }],
      ['instanceType', { instanceType: 'large' }],
      ['rootVolumeGb', { rootVolumeGb: 4 }],
      ['httpsEgressCidrs[0]', { httpsEgressCidrs: ['anywhere'] }],
      ['installCommands[1]', { installCommands: ['true', ' '] }],
      ['healthCheckGracePeriodSecs', { healthCheckGracePeriodSecs: -1 }],
      ['storage', { storage: undefined }],
    ] as Array<[string, Partial<AwsAppServersProps>]>)('%s', (prop, extra) => {
      expect(errorOf((s) => build(s, papercutSpec(), extra))).toContain(`${prop}:`);
    });
  });
});

describe('AwsAppServers: apply order, rolling updates, user data size', () => {
  it('the group waits for the guard object, the role policy and the EFS mount targets (nothing in the user data refers to them)', () => {
    // given / when
    const json = synth((s) => build(s, papercutSpec()));
    // then
    const dependsOn: string[] = one(json, 'aws_autoscaling_group').depends_on;
    const ids = (type: string) => Object.keys(json.resource[type]).map((id) => `${type}.${id}`);
    expect(dependsOn).toEqual(expect.arrayContaining([...ids('aws_s3_object'), ...ids('aws_iam_role_policy'), ...ids('aws_efs_mount_target')]));
    expect(ids('aws_efs_mount_target')).toHaveLength(2);
  });

  it('a new launch template rolls out by itself: new nodes first, each old node held by a termination hook until its watcher handed over', () => {
    // given / when
    let app!: AwsAppServers;
    const json = synth((s) => (app = build(s, papercutSpec())));
    // then
    const asg = one(json, 'aws_autoscaling_group');
    expect(asg.instance_refresh).toEqual({
      strategy: 'Rolling',
      preferences: { min_healthy_percentage: 100, max_healthy_percentage: 200, instance_warmup: '300', scale_in_protected_instances: 'Refresh', standby_instances: 'Terminate', skip_matching: false },
    });
    expect(asg.launch_template.version).toMatch(/latest_version/);
    expect(asg.initial_lifecycle_hook).toEqual([
      { name: HANDOVER_HOOK_NAME, lifecycle_transition: 'autoscaling:EC2_INSTANCE_TERMINATING', default_result: 'CONTINUE', heartbeat_timeout: app.handoverTimeoutSecs },
    ]);
    // the hook outlasts drain + stop + the passive nodes' head start
    expect(app.handoverTimeoutSecs).toBeGreaterThan(app.effectiveSpec.guard.drainSecs + app.effectiveSpec.guard.stopTimeoutSecs + 15);
    expect(app.bootContext.replacement).toBeDefined();
    expect(app.userData).toContain(`ASG_NAME='pc-nodes'\nHOOK_NAME='${HANDOVER_HOOK_NAME}'`);
    expect(app.userData).toContain('step "install the lifecycle watcher"');
  });

  it('Windows nodes get the hook too: their lifecycle watcher (a SYSTEM task) hands over and completes it', () => {
    const spec = papercutSpec({ profile: papercut({ os: 'windows' }), storage: { credentialsSecretRef: `aws-secretsmanager:${SMB_SECRET}` } });
    const json = synth((s) => build(s, spec));
    expect(one(json, 'aws_autoscaling_group').initial_lifecycle_hook).toEqual([expect.objectContaining({ name: 'failover-guard-handover', lifecycle_transition: 'autoscaling:EC2_INSTANCE_TERMINATING', default_result: 'CONTINUE' })]);
    expect(JSON.parse(one(json, 'aws_iam_role_policy').policy).Statement.map((x: { Sid: string }) => x.Sid)).toContain('CompleteHandoverHook');
    expect(one(json, 'aws_launch_template').user_data).toMatch(/^\$\{base64encode\(/);
  });

  it('user data: the largest spec fits 16 KB gzip-compressed; install commands that do not fit fail at synth naming installCommands', () => {
    // given: the longest Linux scripts (SMB with a Secrets Manager secret; EFS with the efs-utils build), long names, many tags
    const largest = [
      papercutSpec({ name: 'p'.repeat(32), storage: { kind: 'smb', credentialsSecretRef: `aws-secretsmanager:${SMB_SECRET}` }, tags: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`tag-${i}`, 'v'.repeat(200)])) }),
      papercutSpec({ name: 'e'.repeat(32) }),
    ];
    for (const spec of largest) {
      let app!: AwsAppServers;
      synth((s) => (app = build(s, spec, { installCommands: ['dnf install -y java-17-amazon-corretto-headless', '/opt/install-papercut.sh --non-interactive'] })));
      const bytes = userDataBytes(app.userData, true);
      // measured: about 15.6 KB plain, under 7.9 KB as sent (gzip, references at their longest)
      expect(bytes).toBeLessThan(EC2_USER_DATA_MAX_BYTES);
    }
    // when: install commands far beyond the limit (random text does not compress)
    const noise = Array.from({ length: 300 }, (_, i) => `echo ${createHash('sha256').update(String(i)).digest('base64')}`);
    const error = errorOf((s) => build(s, papercutSpec(), { installCommands: noise }));
    // then
    expect(error).toMatch(/installCommands: makes the EC2 user data \d+ bytes .*over its limit of 16384/);
  });
});

describe('AwsAppServers: tag limits at synth', () => {
  it.each([
    ['49 tags (AWS allows 50 per resource, two are ours)', { tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v'])) }, 'spec.tags'],
    ['a reserved aws: key', { tags: { 'aws:owner': 'x' } }, 'spec.tags.aws:owner'],
    ['our own Name key', { tags: { Name: 'x' } }, 'spec.tags.Name'],
  ])('rejects %s, naming the prop', (_what, overrides, prop) => {
    expect(errorOf((s) => build(s, papercutSpec(overrides)))).toContain(`- ${prop}:`);
  });

  it('takes 48 tags', () => {
    expect(errorOf((s) => build(s, papercutSpec({ tags: Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, 'v'])) })))).toBe('');
  });
});
