import { awsName, secretsManagerArn, subnetProblems } from '../../lib/aws/aws-support';
import { escapeTemplateLiterals } from '../../lib/core/terraform-template';

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
    expect(subnetProblems('subnetIds', ['a', 'b'])).toEqual([]);
    expect(subnetProblems('subnetIds', ['a'])[0].path).toBe('subnetIds');
    expect(subnetProblems('subnetIds', ['a', 'a'])[0].message).toContain('twice');
  });

  it('secretsManagerArn', () => {
    expect(secretsManagerArn('aws-secretsmanager:arn:x')).toBe('arn:x');
    expect(secretsManagerArn('env:X')).toBeUndefined();
  });
});
