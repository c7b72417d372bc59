import { TerraformVariable } from 'cdktf';
import { AwsThinPrintClientKeys, awsThinPrintPropsProblems } from '../../lib/aws/aws-thinprint';
import { papercut, parseClusterSpec, thinprint } from '../../lib/spec';
import { one, synth } from './aws-test-support';

describe('AwsThinPrintClientKeys', () => {
  it('a secret with a write-only value and an IAM statement for exactly that secret', () => {
    // when
    let keys!: AwsThinPrintClientKeys;
    const json = synth((s) => {
      const value = new TerraformVariable(s, 'keys', { type: 'string', sensitive: true }).stringValue;
      keys = new AwsThinPrintClientKeys(s, 'keys-secret', { spec: parseClusterSpec({ name: 'tpcs', profile: thinprint() }), value, valueVersion: 3 });
    });
    // then
    expect(one(json, 'aws_secretsmanager_secret').name_prefix).toBe('tpcs-thinprint-clients-');
    expect(one(json, 'aws_secretsmanager_secret_version')).toMatchObject({ secret_string_wo: '${var.keys}', secret_string_wo_version: 3 });
    expect(keys.readStatement()).toMatchObject({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue' });
    expect(keys.secretRef.startsWith('aws-secretsmanager:')).toBe(true);
  });

  it('refuses a literal value, names the prop, and lets references through', () => {
    const tp = parseClusterSpec({ name: 'tpcs', profile: thinprint() });
    expect(awsThinPrintPropsProblems(tp, { clientKeysValue: '{"clients":[]}' })).toEqual([{ path: 'thinprint.clientKeysValue', message: expect.stringContaining('never a literal in code') }]);
    expect(awsThinPrintPropsProblems(tp, { clientKeysValue: '${TfToken[TOKEN.7]}' })).toEqual([]);
    expect(awsThinPrintPropsProblems(tp, {})).toEqual([]);
    expect(awsThinPrintPropsProblems(tp, undefined)).toEqual([]);
  });

  it('the thinprint props belong to the ThinPrint profile only', () => {
    const pc = parseClusterSpec({ name: 'pc', profile: papercut() });
    expect(awsThinPrintPropsProblems(pc, { clientKeysVersion: 2 })).toEqual([{ path: 'thinprint', message: expect.stringContaining('only for the ThinPrint profile') }]);
  });
});
