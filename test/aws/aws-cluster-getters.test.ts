import { TerraformOutput } from 'cdktf';
import { AwsFailoverCluster } from '../../lib/aws/aws-failover-cluster';
import { papercut, thinprint } from '../../lib/spec';
import { FIXTURE_BINARY, NET, synth, type Synth } from './aws-test-support';

const net = { vpcId: NET.vpcId, subnetIds: [...NET.subnetIds], vpcCidr: NET.vpcCidr };

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
    synth((s) => (dns = new AwsFailoverCluster(s, 'tp', { ...net, spec: { name: 'tp', profile: thinprint({ clusterMode: 'dns-multicast' }) }, dnsRecord: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', name: 'tp.corp.example.com' }, subnetCidrs: ['10.20.1.0/24', '10.20.2.0/24'] })));
    expect([dns.loadBalancerAddress, dns.loadBalancerDnsName, dns.databaseHost, dns.databasePort, dns.storageId, dns.guardAssetUrl]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('an existing database has a host but no instance id or ARN', () => {
    let existing!: AwsFailoverCluster;
    const spec = { name: 'pc', profile: papercut(), database: { engine: 'postgres' as const, existing: { host: 'db.corp.example.com', username: 'guard', passwordSecretRef: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:pc-db-AbCdEf' } } };
    synth((s) => (existing = new AwsFailoverCluster(s, 'pc', { ...net, spec, binaryPath: FIXTURE_BINARY })));
    expect([existing.databaseHost, existing.databasePort, existing.databaseId, existing.databaseArn]).toEqual(['db.corp.example.com', 5432, undefined, undefined]);
  });
});
