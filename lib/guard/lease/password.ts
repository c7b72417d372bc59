import { promises as fs } from 'fs';
import { importAwsSecrets } from '../chunks';
import { GUARD_KEYS } from '../../contracts/guard-settings';
import { keyVaultSecretReference, parseSecretReference, parseSecretReferenceFor } from '../../contracts/secret-reference';

/** What a password source needs from the outside world; injected so tests stay offline. */
export interface PasswordDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => Promise<string>;
  readonly fetch: typeof fetch;
  /** Returns the SecretString of an AWS Secrets Manager secret, asking the ARN's region. */
  readonly awsSecret: (arn: string, region: string | undefined) => Promise<string | undefined>;
}

/** Instance Metadata Service endpoint for an Azure managed-identity token for Key Vault. */
export const AZURE_IMDS_TOKEN_URL =
  'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';

/** A secret string is either the password itself or JSON with a `password` field (RDS-managed secrets). */
export function passwordFromSecretString(secret: string): string {
  const trimmed = secret.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return secret;
    }
    const pw = (parsed as { password?: unknown }).password;
    if (typeof pw !== 'string') throw new Error('secret is JSON without a string "password" field');
    return pw;
  }
  return secret;
}

/** `https://vault/secrets/name[/version]` → the Key Vault GET URL with its API version. */
export function keyVaultSecretUrl(secretUrl: string): string {
  const parsed = parseSecretReference(keyVaultSecretReference(secretUrl));
  if (!parsed.ok) throw new Error(`Key Vault secret URL: ${parsed.problem}`);
  const u = new URL(secretUrl);
  u.search = 'api-version=7.4';
  return u.toString();
}

async function azureKeyVaultSecret(secretUrl: string, f: typeof fetch): Promise<string> {
  const tokenRes = await f(AZURE_IMDS_TOKEN_URL, { headers: { Metadata: 'true' }, signal: AbortSignal.timeout(5000) });
  if (!tokenRes.ok) throw new Error(`Key Vault: managed identity token: HTTP ${tokenRes.status}`);
  const token = ((await tokenRes.json()) as { access_token?: string }).access_token;
  if (!token) throw new Error('Key Vault: managed identity token response has no access_token');
  const res = await f(keyVaultSecretUrl(secretUrl), { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`Key Vault: GET secret: HTTP ${res.status}`);
  const value = ((await res.json()) as { value?: string }).value;
  if (typeof value !== 'string') throw new Error('Key Vault: secret response has no value');
  return value;
}

/**
 * Resolves a password source (`field` names its key in messages). Called on the first connect
 * and after the server rejects the password (see PasswordCache), so a rotated password is
 * picked up without restarting the guard. Errors name the key and the scheme, never the secret.
 */
export async function resolvePassword(source: string | undefined, deps: PasswordDeps, field: string = GUARD_KEYS.passwordSource): Promise<string | undefined> {
  if (!source) return undefined;
  const ref = parseSecretReferenceFor(source, 'database-password', field);
  switch (ref.scheme) {
    case 'file':
      return (await deps.readFile(ref.path)).replace(/\r?\n$/, '');
    case 'env': {
      const v = deps.env[ref.name];
      if (v === undefined) throw new Error(`${field}: environment variable ${ref.name} is not set`);
      return v;
    }
    case 'aws-secretsmanager': {
      const s = await deps.awsSecret(ref.arn, ref.region);
      if (s === undefined) throw new Error(`${field}: the Secrets Manager secret has no SecretString`);
      return passwordFromSecretString(s);
    }
    case 'azure-keyvault':
      return passwordFromSecretString(await azureKeyVaultSecret(ref.secretUrl, deps.fetch));
  }
}

/** The real outside world. The AWS SDK is loaded only when an ARN is used. */
export function defaultPasswordDeps(): PasswordDeps {
  return {
    env: process.env,
    readFile: (p) => fs.readFile(p, 'utf8'),
    fetch: (...a) => fetch(...a),
    awsSecret: async (arn, region) => {
      const { SecretsManagerClient, GetSecretValueCommand } = await importAwsSecrets();
      const client = new SecretsManagerClient(region ? { region } : {});
      try {
        return (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
      } finally {
        client.destroy();
      }
    },
  };
}
