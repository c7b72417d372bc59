import { Testing } from 'cdktf';
import { AwsPaperCutStack } from '../../apps/examples/aws-papercut/stack';
import { AwsThinPrintDnsStack } from '../../apps/examples/aws-thinprint-dns/stack';
import { EXAMPLE_STACKS } from '../../apps/stacks';
import { all, FIXTURE_BINARY, one, type Synth } from './aws-test-support';
import { expectPaperCutInstalledBeforeCheck } from '../harness/first-boot-install';

function synthPaperCut(): Synth {
  return JSON.parse(Testing.synth(new AwsPaperCutStack(Testing.app(), 'aws-papercut', { binaryPath: FIXTURE_BINARY }), true));
}
function synthThinPrint(): Synth {
  return JSON.parse(Testing.synth(new AwsThinPrintDnsStack(Testing.app(), 'aws-thinprint-dns'), true));
}

/** Every [key, value] pair anywhere in the JSON. */
function entries(value: unknown, out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (Array.isArray(value)) value.forEach((v) => entries(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([k, v]);
      entries(v, out);
    }
  }
  return out;
}

/** Security checks every example stack must pass. */
function expectSecure(json: Synth): void {
  // nothing inbound from the internet, no SSH
  for (const r of all(json, 'aws_vpc_security_group_ingress_rule')) {
    expect(r.cidr_ipv4).not.toBe('0.0.0.0/0');
    expect(r.from_port).not.toBe(22);
  }
  // outbound to the internet only on HTTPS
  for (const r of all(json, 'aws_vpc_security_group_egress_rule').filter((r) => r.cidr_ipv4 === '0.0.0.0/0')) expect([r.from_port, r.to_port]).toEqual([443, 443]);
  // no inline rules that would bypass the rule resources
  for (const sg of all(json, 'aws_security_group')) expect([sg.ingress, sg.egress]).toEqual([undefined, undefined]);
  // no password anywhere, only references to where it is kept
  // (the app user's password is generated at apply time: a local holding that expression, fed
  // only to a write-only attribute, is no password)
  const generated = '${join("", [upper(uuid()), uuid()])}';
  const passwordKeys = entries(json).filter(([k, v]) => /password/i.test(k) && k !== 'manage_master_user_password' && v !== generated);
  expect(passwordKeys).toEqual([]);
  // nodes: IMDSv2, encrypted volumes, no key pair
  for (const lt of all(json, 'aws_launch_template')) {
    expect(lt.metadata_options.http_tokens).toBe('required');
    for (const bd of lt.block_device_mappings) expect(bd.ebs.encrypted).toBe('true');
    expect(lt.key_name).toBeUndefined();
  }
  // IAM: no wildcard resources or actions in our own policies
  for (const p of all(json, 'aws_iam_role_policy')) {
    for (const st of JSON.parse(p.policy).Statement) {
      expect(JSON.stringify(st.Action)).not.toContain('*');
      expect(JSON.stringify(st.Resource)).not.toMatch(/"\*"|\/\*"/);
    }
  }
}

describe('AWS example stacks', () => {
  it('are registered in EXAMPLE_STACKS', () => {
    expect(Object.keys(EXAMPLE_STACKS)).toEqual(expect.arrayContaining(['aws-papercut', 'aws-thinprint-dns']));
  });

  it('aws-papercut: secure by construction', () => {
    // given / when
    const json = synthPaperCut();
    // then
    expectSecure(json);
    expect(one(json, 'aws_lb').internal).toBe(true);
    expect(one(json, 'aws_db_instance')).toMatchObject({ storage_encrypted: true, publicly_accessible: false, manage_master_user_password: true, deletion_protection: true, multi_az: true });
    expect(one(json, 'aws_db_parameter_group').parameter).toEqual([{ name: 'rds.force_ssl', value: '1' }]);
    expect(one(json, 'aws_efs_file_system').encrypted).toBe(true);
    expect(one(json, 'aws_s3_bucket_public_access_block')).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(one(json, 'aws_autoscaling_group').health_check_type).toBe('EC2');
    expect(JSON.stringify(json)).not.toContain('"health_check_type":"ELB"');
    expect(json.provider.aws[0].region).toBe('${var.region}');
  });

  it('aws-thinprint-dns: secure by construction', () => {
    const json = synthThinPrint();
    expectSecure(json);
    expect(all(json, 'aws_route53_record').filter((r) => r.type === 'A').every((r) => r.ttl === 30 && r.multivalue_answer_routing_policy === true)).toBe(true);
    expect(all(json, 'aws_route53_record').filter((r) => r.type === 'CNAME').map((r) => r.name)).toEqual(['print-gateway.corp.example.com']);
    expect(all(json, 'aws_ec2_transit_gateway_multicast_domain')).toHaveLength(1);
  });

  it('aws-papercut snapshot', () => {
    expect(synthPaperCut()).toMatchSnapshot();
  });

  it('aws-thinprint-dns snapshot', () => {
    expect(synthThinPrint()).toMatchSnapshot();
  });
});

describe('AWS example stacks: how the app gets installed', () => {
  it('aws-papercut installs PaperCut (installer URL as a variable) before the boot script checks for pc-app-server.service', () => {
    expectPaperCutInstalledBeforeCheck(synthPaperCut());
  });
});

describe('AWS example stacks: deploy review', () => {
  it('aws-thinprint-dns boots its nodes from an AMI with ThinPrint (a documented required input) and keeps the keys ephemeral', () => {
    const json = synthThinPrint();
    expect(json.variable.image_id.default).toBeUndefined();
    expect(json.variable.image_id.description).toMatch(/ThinPrint Connection Service installed/);
    for (const lt of all(json, 'aws_launch_template')) expect(lt.image_id).toBe('${var.image_id}');
    expect(json.variable.thinprint_client_keys).toMatchObject({ sensitive: true, ephemeral: true });
  });
});
