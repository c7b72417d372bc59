import type { Construct } from 'constructs';
import { unpackPowerShell } from '../../lib/boot/powershell-compact';
import { TerraformOutput, TerraformVariable } from 'cdktf';
import { AwsFailoverCluster, type AwsFailoverClusterProps } from '../../lib/aws/aws-failover-cluster';
import { custom, papercut, thinprint } from '../../lib/spec';
import { AwsDatabase } from '../../lib/aws/aws-database';
import { all, errorOf, FIXTURE_BINARY, NET, one, papercutSpec, synth, type Synth } from './aws-test-support';

const net = { vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr };

describe('AwsFailoverCluster', () => {
  it('parses raw spec input and composes every part for a guard profile', () => {
    // given / when
    let cluster!: AwsFailoverCluster;
    const json = synth((s) => (cluster = new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut() }, binaryPath: FIXTURE_BINARY })));
    // then
    expect(cluster.spec.nodeCount).toBe(2);
    for (const part of [cluster.loadBalancer, cluster.database, cluster.storage, cluster.guardAsset, cluster.appServers, cluster.alarms]) expect(part).toBeDefined();
    expect(cluster.dnsCluster).toBeUndefined();
    expect(one(json, 'aws_lb').internal).toBe(true);
    expect(one(json, 'aws_autoscaling_group').health_check_type).toBe('EC2');
    expect(one(json, 'aws_db_instance').multi_az).toBe(true);
    expect(one(json, 'aws_efs_file_system').encrypted).toBe(true);
    expect(all(json, 'aws_cloudwatch_metric_alarm')).toHaveLength(3);
  });

  it('passes options through: installCommands, imageId, instanceType, database options, aliasRecord, SMB directory', () => {
    // given
    const spec = { name: 'pc', profile: papercut({ os: 'windows' }), database: { engine: 'mysql' as const } };
    // when
    let cluster!: AwsFailoverCluster;
    const json = synth(
      (s) =>
        (cluster = new AwsFailoverCluster(s, 'pc', {
          ...net,
          spec,
          binaryPath: FIXTURE_BINARY,
          activeDirectoryId: 'd-1234567890',
          installCommands: ['Start-Process C:\\install\\pcmf-setup.exe -Wait'],
          imageId: 'ami-0123456789abcdef0',
          instanceType: 't3.xlarge',
          database: { instanceClass: 'db.r7g.large' },
          aliasRecord: { hostedZoneId: 'Z123', name: 'print.corp.example.com' },
        })),
    );
    // then
    expect(one(json, 'aws_fsx_windows_file_system').active_directory_id).toBe('d-1234567890');
    expect(one(json, 'aws_launch_template')).toMatchObject({ image_id: 'ami-0123456789abcdef0', instance_type: 't3.xlarge' });
    expect(one(json, 'aws_db_instance')).toMatchObject({ engine: 'mysql', instance_class: 'db.r7g.large' });
    expect(one(json, 'aws_route53_record').alias.evaluate_target_health).toBe(true);
    expect(cluster.appServers!.userData).toContain('pcmf-setup.exe');
  });

  it('a dns profile builds an AwsDnsCluster and nothing guard-related', () => {
    // given / when
    let cluster!: AwsFailoverCluster;
    const json = synth((s) => (cluster = new AwsFailoverCluster(s, 'tp', { ...net, spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast', nodeSubnetCidrs: ['10.0.1.0/24', '10.0.2.0/24'] }) }, dnsRecord: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'tp.corp.example.com' } })));
    // then
    expect(cluster.dnsCluster).toBeDefined();
    expect(cluster.loadBalancer).toBeUndefined();
    expect(all(json, 'aws_route53_health_check')).toHaveLength(2);
    for (const type of ['aws_lb', 'aws_db_instance', 'aws_s3_bucket', 'aws_autoscaling_group']) expect(json.resource[type]).toBeUndefined();
  });

  describe('validation (each message names the prop)', () => {
    it('an invalid spec fails with the construct path and spec.<field> before any resource', () => {
      expect(errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut(), nodeCount: 1 }, binaryPath: FIXTURE_BINARY }))).toMatch(
        /^test\/pc is invalid:\n  - spec\.nodeCount: /,
      );
    });

    it('bad spec fields and bad props of the cluster and its parts come out in one error', () => {
      // given
      const props = {
        spec: { name: 'pc', profile: papercut(), nodeCount: 1, guard: { failOverIntervalSecs: 2 } },
        vpcId: 'vpc-123',
        subnetIds: [NET.subnetIds[0], 'my-subnet'],
        instanceType: 'large',
        binaryPath: '/missing/guard',
      };
      // when
      const message = errorOf((s) => new AwsFailoverCluster(s, 'pc', props));
      // then
      expect(message.split('\n')[0]).toBe('test/pc is invalid:');
      for (const line of ['spec.nodeCount: ', 'spec.guard.failOverIntervalSecs: ', 'vpcId: "vpc-123" is not a VPC id', 'subnetIds[1]: "my-subnet" is not a subnet id', 'instanceType: ', 'binaryPath: no guard binary']) {
        expect(message).toContain(`\n  - ${line}`);
      }
    });

    it('with a valid spec, the parts\' problems come out with the spec\'s and the props\', named as the user wrote them', () => {
      // given: an AWS-only health-check limit (spec-valid), an RDS option and a prop
      const props = {
        ...net,
        vpcId: '',
        spec: { name: 'pc', profile: papercut(), healthCheck: { intervalSecs: 5.5 } },
        database: { instanceClass: 'large' },
        binaryPath: FIXTURE_BINARY,
      };
      // when
      const message = errorOf((s) => new AwsFailoverCluster(s, 'pc', props));
      // then
      expect(message).toMatch(/^test\/pc is invalid:\n/);
      for (const line of ['vpcId: required', 'spec.healthCheck.intervalSecs: AWS NLB', 'database.instanceClass: ']) expect(message).toContain(`\n  - ${line}`);
    });

    it('a missing vpcId is an error, not security groups without a VPC', () => {
      const { vpcId: _vpc, ...noVpc } = net;
      expect(errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...(noVpc as typeof net), spec: { name: 'pc', profile: papercut() }, binaryPath: FIXTURE_BINARY }))).toContain('\n  - vpcId: required');
    });

    it('ids given as tokens pass the shape checks', () => {
      expect(
        errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...net, vpcId: new TerraformVariable(s, 'vpc', { type: 'string' }).stringValue, spec: { name: 'pc', profile: papercut() }, binaryPath: FIXTURE_BINARY })),
      ).toBe('');
    });
    it('dnsRecord is required for a dns profile', () => {
      expect(errorOf((s) => new AwsFailoverCluster(s, 'tp', { ...net, spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) } }))).toContain('dnsRecord:');
    });
    it('aliasRecord is not for a dns profile', () => {
      const dnsRecord = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'tp.corp.example.com' };
      expect(errorOf((s) => new AwsFailoverCluster(s, 'tp', { ...net, spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }, dnsRecord, aliasRecord: dnsRecord }))).toContain('aliasRecord:');
    });
    it('a dns-multicast cluster reports its DNS part\'s problems with its own, in one error named by the cluster path', () => {
      // given: a bad vpcId (the cluster's), a bad hosted zone id and missing subnet CIDRs (the DNS part's)
      const dnsRecord = { hostedZoneId: 'not-a-zone', name: 'tp.corp.example.com' };
      // when
      const message = errorOf((s) => new AwsFailoverCluster(s, 'tp', { ...net, vpcId: 'vpc-nope', spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }, dnsRecord }));
      // then
      expect(message.split('\n')[0]).toBe('test/tp is invalid:');
      expect(message).toContain('vpcId:');
      expect(message).toContain('dnsRecord.hostedZoneId: must be a Route 53 hosted zone id');
      expect(message).toContain('spec.profile.nodeSubnetCidrs: is required for ThinPrint dns-multicast');
    });

    it('dnsRecord is not for a guard profile', () => {
      const dnsRecord = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'pc.corp.example.com' };
      expect(errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut() }, dnsRecord, binaryPath: FIXTURE_BINARY }))).toContain('dnsRecord:');
    });
    it('the boot script\'s spec checks come out with the rest, by the cluster path, before anything is built', () => {
      // given: a Linux service name that is no systemd unit (the renderer's check) and a bad vpcId
      const profile = custom({ displayName: 'Acme', os: 'linux', ports: [{ name: 'http', port: 8080 }], installDir: '/opt/acme', serviceName: 'acme', readiness: { kind: 'tcp', port: 8080 } });
      // when
      const message = errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...net, vpcId: 'vpc-nope', spec: { name: 'pc', profile }, binaryPath: FIXTURE_BINARY }));
      // then
      expect(message.split('\n')[0]).toBe('test/pc is invalid:');
      expect(message).toContain('\n  - vpcId: ');
      expect(message).toContain('\n  - spec.profile.serviceName: must be a systemd service unit name');
    });
    it('a missing guard binary names binaryPath', () => {
      expect(errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut() }, binaryPath: '/missing/guard' }))).toContain('binaryPath:');
    });
  });

  describe('ThinPrint single-active (the default mode)', () => {
    const tp = (over: Partial<AwsFailoverClusterProps> = {}): AwsFailoverClusterProps => ({ ...net, spec: { name: 'tp', profile: thinprint() }, binaryPath: FIXTURE_BINARY, ...over });

    it('the guard behind the NLB like PaperCut, no share (so no Active Directory), a client-keys secret only the nodes read', () => {
      // given / when
      let cluster!: AwsFailoverCluster;
      const json = synth((s) => {
        const keys = new TerraformVariable(s, 'keys', { type: 'string', sensitive: true });
        cluster = new AwsFailoverCluster(s, 'tp', tp({ thinprint: { clientKeysValue: keys.stringValue } }));
      });
      // then
      expect(cluster.storage).toBeUndefined();
      for (const type of ['aws_efs_file_system', 'aws_fsx_windows_file_system']) expect(json.resource[type]).toBeUndefined();
      expect(all(json, 'aws_lb_listener').map((l) => l.port).sort()).toEqual([4000, 4001, 4002]);
      expect(one(json, 'aws_secretsmanager_secret_version')).toMatchObject({ secret_string_wo: '${var.keys}', secret_string_wo_version: 1 });
      expect(one(json, 'aws_secretsmanager_secret_version').secret_string).toBeUndefined();
      const secretArn = `\${aws_secretsmanager_secret.${Object.keys(json.resource.aws_secretsmanager_secret)[0]}.arn}`;
      const read = JSON.parse(one(json, 'aws_iam_role_policy').policy).Statement.find((x: any) => x.Sid === 'ReadSecrets');
      expect(read.Resource).toContain(secretArn);
      // the Windows script goes packed when longer than EC2 takes: the values stay plain, the steps inside
      const script = unpackPowerShell(Object.values(json.locals).find((v) => String(v).includes('TPConnectionService')) as string);
      expect(script).toContain(`$TpClientKeysSecretRef = 'aws-secretsmanager:${secretArn}'`);
      expect(script).toContain("Invoke-Step 'configure the ThinPrint Connection Service node'");
      expect(script).not.toMatch(/map the share|MCastNode/);
      // no node-to-node rule: only the load balancer reaches the nodes
      const sgs = json.resource.aws_security_group as Record<string, any>;
      const nodeSg = Object.keys(sgs).find((k) => sgs[k].name === 'tp-nodes')!;
      const toNodes = all(json, 'aws_vpc_security_group_ingress_rule').filter((r) => r.security_group_id.includes(nodeSg));
      expect(toNodes.every((r) => String(r.referenced_security_group_id).includes('aws_security_group.'))).toBe(true);
    });

    it('the same NLB health check and guard timings as PaperCut on Windows', () => {
      let tpCluster!: AwsFailoverCluster;
      let pcCluster!: AwsFailoverCluster;
      const tpJson = synth((s) => (tpCluster = new AwsFailoverCluster(s, 'x', tp())));
      const pcJson = synth((s) => (pcCluster = new AwsFailoverCluster(s, 'x', { ...tp(), spec: { name: 'tp', profile: papercut({ os: 'windows' }) }, activeDirectoryId: 'd-1234567890' })));
      const health = (json: Record<string, any>) => all(json, 'aws_lb_target_group').map((g) => g.health_check);
      expect(new Set(health(tpJson).map((h) => JSON.stringify(h)))).toEqual(new Set(health(pcJson).map((h) => JSON.stringify(h))));
      // the startup timeout differs on purpose: PaperCut's also covers its hooks (ThinPrint has none)
      const guardLines = (text: string) => text.split('\n').filter((l) => /high-availability-guard\.|health\.|load-balancer\./.test(l) && !l.includes('startup-timeout-secs'));
      expect(guardLines(tpCluster.appServers!.userData).length).toBeGreaterThan(5);
      expect(guardLines(tpCluster.appServers!.userData)).toEqual(guardLines(pcCluster.appServers!.userData));
    });

    it('rejects multicast-only settings and client keys in code, naming them', () => {
      const message = errorOf((s) => new AwsFailoverCluster(s, 'tp', tp({ spec: { name: 'tp', profile: thinprint({ nodeSubnetCidrs: ['10.0.1.0/24'] }) } })));
      expect(message).toContain('profile.nodeSubnetCidrs: is for ThinPrint dns-multicast only');
      const props = tp({ dmzAlias: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'x.example.com' }, thinprint: { clientKeysValue: '{"clients":[]}' } });
      expect(errorOf((s) => new AwsFailoverCluster(s, 'tp', props))).toMatch(/dmzAlias: only for ThinPrint dns-multicast[\s\S]*thinprint\.clientKeysValue: must come from a sensitive Terraform variable/);
    });

    it('a non-ThinPrint profile cannot be given ThinPrint settings: neither the props group nor the node subnets', () => {
      const keys = (s: Construct) => new TerraformVariable(s, 'k', {}).stringValue;
      expect(errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut() }, binaryPath: FIXTURE_BINARY, thinprint: { clientKeysValue: keys(s) } }))).toContain(
        'thinprint: only for the ThinPrint profile (this is PaperCut',
      );
      // a hand-written profile object may carry any schema field; the spec names the one that does not belong
      const profile = { ...papercut(), nodeSubnetCidrs: ['10.0.1.0/24', '10.0.2.0/24'] };
      expect(errorOf((s) => new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile }, binaryPath: FIXTURE_BINARY }))).toContain('profile.nodeSubnetCidrs: is for ThinPrint dns-multicast only');
    });
  });

  describe('ThinPrint dns-multicast settings come from the profile', () => {
    const dnsProps = (nodeSubnetCidrs?: readonly string[]): AwsFailoverClusterProps => ({
      ...net,
      spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast', nodeSubnetCidrs }) },
      dnsRecord: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'tp.corp.example.com' },
    });

    it("the node-to-node rules and the boot script's subnets are the profile's nodeSubnetCidrs", () => {
      // given / when
      const json = synth((s) => new AwsFailoverCluster(s, 'tp', dnsProps(['10.0.1.0/24', '10.0.2.0/24'])));
      // then
      const nodeRules = all(json, 'aws_vpc_security_group_ingress_rule').filter((r) => String(r.description).startsWith('ThinPrint'));
      expect(new Set(nodeRules.map((r) => r.cidr_ipv4))).toEqual(new Set(['10.0.1.0/24', '10.0.2.0/24']));
      // the boot script's node network (MCastNodeIfBits) covers exactly the profile's subnets
      expect(Object.values(json.locals)[0]).toContain("$TpNodeNetwork = '10.0.0.0/22'");
    });

    it('without them the cluster names the profile field', () => {
      expect(errorOf((s) => new AwsFailoverCluster(s, 'tp', dnsProps()))).toContain('spec.profile.nodeSubnetCidrs: is required for ThinPrint dns-multicast');
    });
  });
});

/** The Terraform output `name` of the synthesized JSON, as written. */
const output = (json: Synth, name: string): unknown => json.output[name].value;

/** `${type.address.attribute}` of an output that references exactly one resource attribute. */
function referenced(json: Synth, name: string): { type: string; address: string; attribute: string } {
  const match = /^\$\{([a-z0-9_]+)\.([\w-]+)\.([a-z_]+)\}$/.exec(String(output(json, name)));
  if (!match) throw new Error(`output ${name} is ${String(output(json, name))}, not one reference`);
  const [, type, address, attribute] = match;
  expect(json.resource[type]?.[address]).toBeDefined();
  return { type, address, attribute };
}

describe('AwsFailoverCluster convenience getters', () => {
  // given: a PaperCut cluster whose getters are written as outputs, as users do
  let cluster!: AwsFailoverCluster;
  const json = synth((s) => {
    cluster = new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut() }, binaryPath: FIXTURE_BINARY });
    const outputs: Record<string, unknown> = {
      lb_dns_name: cluster.loadBalancerDnsName,
      lb_address: cluster.loadBalancerAddress,
      lb_arn: cluster.loadBalancerArn,
      db_host: cluster.databaseHost,
      db_id: cluster.databaseId,
      db_arn: cluster.databaseArn,
      storage_id: cluster.storageId,
      storage_arn: cluster.storageArn,
      storage_dns_name: cluster.storageDnsName,
      guard_bucket: cluster.guardAssetBucketName,
    };
    for (const [name, value] of Object.entries(outputs)) new TerraformOutput(s, name, { value });
    new TerraformOutput(s, 'guard_url', { value: cluster.guardAssetUrl });
  });

  it.each([
    ['lb_dns_name', 'aws_lb', 'dns_name'],
    ['lb_address', 'aws_lb', 'dns_name'],
    ['lb_arn', 'aws_lb', 'arn'],
    ['db_host', 'aws_db_instance', 'address'],
    ['db_id', 'aws_db_instance', 'identifier'],
    ['db_arn', 'aws_db_instance', 'arn'],
    ['storage_id', 'aws_efs_file_system', 'id'],
    ['storage_arn', 'aws_efs_file_system', 'arn'],
    ['storage_dns_name', 'aws_efs_file_system', 'dns_name'],
    ['guard_bucket', 'aws_s3_bucket', 'bucket'],
  ])('%s is the %s attribute %s', (name, type, attribute) => {
    expect(referenced(json, name)).toMatchObject({ type, attribute });
  });

  it('databasePort is the engine port; guardAssetUrl is s3://<bucket>/<the uploaded object key>', () => {
    expect(cluster.databasePort).toBe(5432);
    expect(String(output(json, 'guard_url'))).toMatch(/^s3:\/\/\$\{aws_s3_bucket\.[\w-]+\.bucket\}\/\$\{aws_s3_object\.[\w-]+\.key\}$/);
  });

  it('an alias record is the address clients use', () => {
    let aliased!: AwsFailoverCluster;
    synth((s) => (aliased = new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut() }, binaryPath: FIXTURE_BINARY, aliasRecord: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'print.corp.example.com' } })));
    expect(aliased.loadBalancerAddress).toBe('print.corp.example.com');
  });

  it('FSx (SMB) storage: the Windows file system\'s id, ARN and DNS name', () => {
    const smb = synth((s) => {
      const c = new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut({ os: 'windows' }) }, binaryPath: FIXTURE_BINARY, activeDirectoryId: 'd-1234567890' });
      new TerraformOutput(s, 'storage_id', { value: c.storageId });
      new TerraformOutput(s, 'storage_dns_name', { value: c.storageDnsName });
    });
    expect(referenced(smb, 'storage_id')).toMatchObject({ type: 'aws_fsx_windows_file_system', attribute: 'id' });
    expect(referenced(smb, 'storage_dns_name')).toMatchObject({ type: 'aws_fsx_windows_file_system', attribute: 'dns_name' });
  });

  it('a dns profile has no load balancer, database, storage or guard: those getters are undefined', () => {
    let dns!: AwsFailoverCluster;
    synth((s) => (dns = new AwsFailoverCluster(s, 'tp', { ...net, spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast', nodeSubnetCidrs: ['10.20.1.0/24', '10.20.2.0/24'] }) }, dnsRecord: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'tp.corp.example.com' } })));
    expect([dns.loadBalancerAddress, dns.loadBalancerDnsName, dns.databaseHost, dns.databasePort, dns.storageId, dns.guardAssetUrl]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('an existing database has a host but no instance id or ARN', () => {
    let existing!: AwsFailoverCluster;
    const spec = { name: 'pc', profile: papercut(), database: { engine: 'postgres' as const, existing: { host: 'db.corp.example.com', username: 'guard', passwordSecretRef: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:pc-db-AbCdEf' } } };
    synth((s) => (existing = new AwsFailoverCluster(s, 'pc', { ...net, spec, binaryPath: FIXTURE_BINARY })));
    expect([existing.databaseHost, existing.databasePort, existing.databaseId, existing.databaseArn]).toEqual(['db.corp.example.com', 5432, undefined, undefined]);
  });
});

describe('AwsFailoverCluster: deploy review', () => {
  it('requires Terraform ≥ 1.11 on its stack (write-only arguments), so an older CLI stops at init', () => {
    const json = synth((s) => new AwsFailoverCluster(s, 'pc', { ...net, spec: { name: 'pc', profile: papercut() }, binaryPath: FIXTURE_BINARY }));
    expect(json.terraform.required_version).toBe('>= 1.11.0');
  });

  it('requires it for a part used alone too (AwsDatabase writes its app password write-only)', () => {
    const json = synth((s) => new AwsDatabase(s, 'db', { ...net, spec: papercutSpec() }));
    expect(json.terraform.required_version).toBe('>= 1.11.0');
  });
});

describe('AwsFailoverCluster: deploy review of the share\'s security group', () => {
  it.each([
    ['EFS', { name: 'pc', profile: papercut() }, 2049],
    ['FSx', { name: 'pc', profile: papercut({ os: 'windows' }), storage: { kind: 'smb' as const } }, 445],
  ])('%s admits its port from the app servers\' security group only, and nothing else inbound', (_kind, spec, port) => {
    const json = synth((s) => new AwsFailoverCluster(s, 'pc', { ...net, spec, binaryPath: FIXTURE_BINARY, activeDirectoryId: 'd-1234567890' }));
    const groups = json.resource.aws_security_group as Record<string, any>;
    const [share] = Object.keys(groups).filter((k) => groups[k].name === 'pc-share');
    const nodes = one(json, 'aws_launch_template').vpc_security_group_ids[0];
    const inbound = all(json, 'aws_vpc_security_group_ingress_rule').filter((r) => r.security_group_id === `\${aws_security_group.${share}.id}`);
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({ referenced_security_group_id: nodes, from_port: port, to_port: port, ip_protocol: 'tcp' });
    expect(inbound[0].cidr_ipv4).toBeUndefined();
  });
});
