import { AZURE_IMDS_TOKEN_URL, keyVaultSecretUrl, passwordFromSecretString, resolvePassword, type PasswordDeps } from '../../../lib/guard/lease/password';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promises as fs } from 'fs';

function deps(over: Partial<PasswordDeps> = {}): PasswordDeps {
  return {
    env: {},
    readFile: (p) => fs.readFile(p, 'utf8'),
    fetch: () => Promise.reject(new Error('no network in tests')),
    awsSecret: () => Promise.reject(new Error('no AWS in tests')),
    ...over,
  };
}

describe('resolvePassword', () => {
  it('reads file: without the trailing newline, again on every call', async () => {
    // given
    const file = join(mkdtempSync(join(tmpdir(), 'pw-')), 'pw');
    writeFileSync(file, 'first\n');
    // when
    const a = await resolvePassword(`file:${file}`, deps());
    writeFileSync(file, 'rotated\n');
    const b = await resolvePassword(`file:${file}`, deps());
    // then
    expect([a, b]).toEqual(['first', 'rotated']);
  });

  it('reads env: and names a missing variable', async () => {
    await expect(resolvePassword('env:PW', deps({ env: { PW: 'x' } }))).resolves.toBe('x');
    await expect(resolvePassword('env:PW', deps())).rejects.toThrow('PW is not set');
  });

  it('accepts plain and JSON secret strings from aws-secretsmanager:', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db';
    const seen: string[] = [];
    const plain = deps({ awsSecret: async (a) => (seen.push(a), 'pw1') });
    const json = deps({ awsSecret: async () => JSON.stringify({ username: 'u', password: 'pw2' }) });
    await expect(resolvePassword(`aws-secretsmanager:${arn}`, plain)).resolves.toBe('pw1');
    await expect(resolvePassword(`aws-secretsmanager:${arn}`, json)).resolves.toBe('pw2');
    expect(seen).toEqual([arn]);
  });

  it('gets a managed-identity token, then the Key Vault secret', async () => {
    // given
    const calls: Array<[string, Record<string, string>]> = [];
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      calls.push([url, init?.headers as Record<string, string>]);
      const body = url === AZURE_IMDS_TOKEN_URL ? { access_token: 'tok' } : { value: '{"password":"kv"}' };
      return new Response(JSON.stringify(body), { status: 200 });
    }) as typeof fetch;
    // when
    const pw = await resolvePassword('azure-keyvault:https://v1.vault.azure.net/secrets/db', deps({ fetch: fakeFetch }));
    // then
    expect(pw).toBe('kv');
    expect(calls).toEqual([
      [AZURE_IMDS_TOKEN_URL, { Metadata: 'true' }],
      ['https://v1.vault.azure.net/secrets/db?api-version=7.4', { Authorization: 'Bearer tok' }],
    ]);
  });

  it('refuses a source that is no reference, naming the key and never quoting the text', async () => {
    // given a password pasted where its reference belongs
    const pasted = 'Hunter2-secret';
    // then the error names the key the caller gave, and the text appears nowhere
    const error = await resolvePassword(pasted, deps(), 'app.database.password-source').catch((e: Error) => e);
    expect(String(error)).toContain('app.database.password-source: must be file:<absolute path>, env:<NAME>');
    expect(String(error)).not.toContain(pasted);
  });

  it('asks Secrets Manager in the region of the ARN', async () => {
    const regions: Array<string | undefined> = [];
    const aws = deps({ awsSecret: async (_, region) => (regions.push(region), 'pw') });
    await resolvePassword('aws-secretsmanager:arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:db', aws);
    expect(regions).toEqual(['ap-southeast-2']);
  });

  it('reports a failed token request', async () => {
    const fakeFetch = (async () => new Response('', { status: 400 })) as unknown as typeof fetch;
    await expect(resolvePassword('azure-keyvault:https://v.vault.azure.net/secrets/db', deps({ fetch: fakeFetch }))).rejects.toThrow('HTTP 400');
  });
});

describe('secret parsing', () => {
  it('keeps a plain string and reads password from JSON', () => {
    expect(passwordFromSecretString('p{w')).toBe('p{w');
    expect(passwordFromSecretString('{"password":"x"}')).toBe('x');
    expect(() => passwordFromSecretString('{"user":"x"}')).toThrow('password');
  });

  it('builds the Key Vault URL with a version and refuses other URLs', () => {
    expect(keyVaultSecretUrl('https://v.vault.azure.net/secrets/db/abc')).toBe('https://v.vault.azure.net/secrets/db/abc?api-version=7.4');
    expect(() => keyVaultSecretUrl('http://v.vault.azure.net/secrets/db')).toThrow('Key Vault secret URL: must be azure-keyvault:<secret-url>');
  });
});
