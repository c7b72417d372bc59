import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { awsIdProblems, awsName, subnetProblems } from '../../lib/aws/aws-support';
import { escapeTemplateLiterals } from '../../lib/synth/terraform-template';

describe('aws support', () => {
  it('escapeTemplateLiterals escapes ${ and %{ but keeps cdktf reference tokens', () => {
    // given
    const script = 'echo "${HOME}" %{x} ${TfToken[TOKEN.12]} $$';
    // when / then
    expect(escapeTemplateLiterals(script)).toBe('echo "$${HOME}" %%{x} ${TfToken[TOKEN.12]} $$');
  });

  it('awsName keeps short names and cuts long ones to the limit with a stable hash', () => {
    expect(awsName('pc', 'nlb')).toBe('pc-nlb');
    const long = awsName('abcdefghijklmnopqrstuvwxyz012345', '9191');
    expect(long.length).toBeLessThanOrEqual(32);
    expect(long).toMatch(/-9191$/);
    expect(awsName('abcdefghijklmnopqrstuvwxyz012345', '9191')).toBe(long);
    expect(awsName('abcdefghijklmnopqrstuvwxyz012346', '9191')).not.toBe(long);
  });

  it('subnetProblems: at least two, no duplicates', () => {
    const [a, b] = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbb'];
    expect(subnetProblems('subnetIds', [a, b])).toEqual([]);
    expect(subnetProblems('subnetIds', [a])[0].path).toBe('subnetIds');
    expect(subnetProblems('subnetIds', [a, a])).toEqual([{ path: 'subnetIds', message: 'lists a subnet twice' }]);
  });

  it('subnetProblems: a literal that is not a subnet id is named by its index; tokens pass', () => {
    // given
    const token = new TerraformVariable(new TerraformStack(Testing.app(), 's'), 'subnet', { type: 'string' }).stringValue;
    // when / then
    expect(subnetProblems('publicSubnetIds', ['subnet-0aaaaaaaaaaaaaaa1', 'vpc-0aaaaaaaaaaaaaaa1'])).toEqual([
      { path: 'publicSubnetIds[1]', message: '"vpc-0aaaaaaaaaaaaaaa1" is not a subnet id (subnet- and 8 or 17 hex digits, e.g. "subnet-0123456789abcdef0")' },
    ]);
    expect(subnetProblems('subnetIds', ['subnet-0aaaaaaaaaaaaaaa1', token])).toEqual([]);
  });

  it('awsIdProblems: a missing, malformed or mistyped VPC id names the prop; tokens pass', () => {
    const token = new TerraformVariable(new TerraformStack(Testing.app(), 's'), 'vpc', { type: 'string' }).stringValue;
    expect(awsIdProblems('vpcId', undefined, 'vpc')).toEqual([{ path: 'vpcId', message: 'required: an existing VPC id such as "vpc-0123456789abcdef0"' }]);
    expect(awsIdProblems('vpcId', 'vpc-123', 'vpc')[0]).toEqual({ path: 'vpcId', message: '"vpc-123" is not a VPC id (vpc- and 8 or 17 hex digits, e.g. "vpc-0123456789abcdef0")' });
    expect(awsIdProblems('vpcId', 'subnet-0aaaaaaaaaaaaaaa1', 'vpc')).toHaveLength(1);
    expect(awsIdProblems('vpcId', 'vpc-0123456789abcdef0', 'vpc')).toEqual([]);
    expect(awsIdProblems('vpcId', token, 'vpc')).toEqual([]);
  });
});
