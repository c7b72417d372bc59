import { promises as fs } from 'fs';
import { importAwsSecrets } from './chunks';

/** What a password source needs from the outside world; injected so tests stay offline. */
export interface PasswordDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => Promise<string>;
  readonly fetch: typeof fetch;
  /** Returns the SecretString of an AWS Secrets Manager secret. */
  readonly awsSecret: (arn: string) => Promise<string | undefined>;
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
  const u = new URL(secretUrl);
  if (u.protocol !== 'https:' || !/^\/secrets\/[^/]+(\/[^/]+)?\/?$/.test(u.pathname)) {
    throw new Error(`azure-keyvault: expected https://<vault>.vault.azure.net/secrets/<name>[/<version>], got ${secretUrl}`);
  }
  u.search = 'api-version=7.4';
  return u.toString();
}

async function azureKeyVaultSecret(secretUrl: string, f: typeof fetch): Promise<string> {
  const tokenRes = await f(AZURE_IMDS_TOKEN_URL, { headers: { Metadata: 'true' }, signal: AbortSignal.timeout(5000) });
  if (!tokenRes.ok) throw new Error(`azure-keyvault: managed identity token: HTTP ${tokenRes.status}`);
  const token = ((await tokenRes.json()) as { access_token?: string }).access_token;
  if (!token) throw new Error('azure-keyvault: managed identity token response has no access_token');
  const res = await f(keyVaultSecretUrl(secretUrl), { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`azure-keyvault: GET secret: HTTP ${res.status}`);
  const value = ((await res.json()) as { value?: string }).value;
  if (typeof value !== 'string') throw new Error('azure-keyvault: secret response has no value');
  return value;
}

/**
 * Resolves `database.password-source`. Called on the first connect and after the server rejects
 * the password (see PasswordCache), so a rotated password is
 * picked up without restarting the guard. Errors name the source kind, never the secret.
 */
export async function resolvePassword(source: string | undefined, deps: PasswordDeps): Promise<string | undefined> {
  if (!source) return undefined;
  const colon = source.indexOf(':');
  const kind = source.slice(0, colon);
  const ref = source.slice(colon + 1);
  switch (kind) {
    case 'file':
      return (await deps.readFile(ref)).replace(/\r?\n$/, '');
    case 'env': {
      const v = deps.env[ref];
      if (v === undefined) throw new Error(`database.password-source: environment variable ${ref} is not set`);
      return v;
    }
    case 'aws-secretsmanager': {
      const s = await deps.awsSecret(ref);
      if (s === undefined) throw new Error('aws-secretsmanager: secret has no SecretString');
      return passwordFromSecretString(s);
    }
    case 'azure-keyvault':
      return passwordFromSecretString(await azureKeyVaultSecret(ref, deps.fetch));
    default:
      throw new Error(`database.password-source: unknown source "${kind}"`);
  }
}

/** The real outside world. The AWS SDK is loaded only when an ARN is used. */
export function defaultPasswordDeps(): PasswordDeps {
  return {
    env: process.env,
    readFile: (p) => fs.readFile(p, 'utf8'),
    fetch: (...a) => fetch(...a),
    awsSecret: async (arn) => {
      const { SecretsManagerClient, GetSecretValueCommand } = await importAwsSecrets();
      const region = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(arn)?.[1];
      const client = new SecretsManagerClient(region ? { region } : {});
      try {
        return (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
      } finally {
        client.destroy();
      }
    },
  };
}
