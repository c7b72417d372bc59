import { readFileSync } from 'fs';
import { checkServerIdentity, rootCertificates, type ConnectionOptions, type PeerCertificate } from 'tls';
import { X509Certificate } from 'crypto';
import type { SslOptions } from 'mysql2';
import { importRdsCa } from '../chunks';
import type { CaSource, DatabaseTls, PostgresTarget } from './database-url';

/**
 * A database URL's TLS (lib/guard/lease/database-url.ts) → the options Node's TLS gets, for both
 * drivers, and a certificate failure → one line that says what to set. The drivers' own readings
 * of `sslmode` are never used: node-postgres treats `require` as verify-full against Node's roots.
 */

/**
 * The roots Azure Database for PostgreSQL/MySQL flexible servers chain to (Microsoft's
 * "Root CAs used by Azure Database for PostgreSQL"): all three are in Node's built-in store,
 * so they are taken from there by subject, not shipped.
 */
export const AZURE_ROOT_SUBJECTS: readonly string[] = ['DigiCert Global Root G2', 'DigiCert Global Root CA', 'Microsoft RSA Root Certificate Authority 2017'];

/** Node's built-in roots whose subject CN is one of `names`. */
export function builtInRoots(names: readonly string[]): string[] {
  return rootCertificates.filter((pem) => {
    const cn = /(?:^|\n)CN=(.*)/.exec(new X509Certificate(pem).subject)?.[1];
    return cn !== undefined && names.includes(cn);
  });
}

/** Human words for a CA source, for messages. */
export function describeCa(ca: CaSource | undefined): string {
  if (!ca) return 'no CA (not verified)';
  switch (ca.kind) {
    case 'file':
      return `the CA file ${ca.path}`;
    case 'system':
      return "Node's built-in root CAs";
    case 'rds':
      return `the Amazon RDS CA bundle carried by the guard${ca.auto ? ' (chosen for the host name)' : ''}`;
    case 'azure':
      return `the Azure database roots (${AZURE_ROOT_SUBJECTS.join(', ')})${ca.auto ? ' (chosen for the host name)' : ''}`;
  }
}

/** The PEM certificates of a CA source; undefined means Node's built-in roots. Loaded on use only (the RDS bundle is a chunk). */
export async function loadCa(ca: CaSource, keys: DatabaseTls['keys'], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Promise<string | string[] | undefined> {
  switch (ca.kind) {
    case 'system':
      return undefined;
    case 'rds':
      return [...(await importRdsCa()).ca];
    case 'azure':
      return builtInRoots(AZURE_ROOT_SUBJECTS);
    case 'file':
      try {
        return readFile(ca.path);
      } catch (e) {
        throw new Error(`${keys.ca}=${ca.path}: cannot read the CA file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
  }
}

/**
 * Node TLS options for a connection to `host`: false for `disable`; `require` encrypts without
 * verifying; `verify-ca` checks the chain only; `verify-full` the chain and that the certificate
 * names `host` (IP or DNS name, as the URL says: node-postgres would check an IP host against
 * "localhost").
 */
export async function pgSsl(tls: DatabaseTls, host: string, readFile?: (path: string) => string): Promise<false | ConnectionOptions> {
  if (tls.mode === 'disable') return false;
  if (tls.mode === 'require' || !tls.ca) return { rejectUnauthorized: false };
  const ca = await loadCa(tls.ca, tls.keys, readFile);
  return {
    ...(ca === undefined ? {} : { ca }),
    rejectUnauthorized: true,
    checkServerIdentity: tls.mode === 'verify-full' ? (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert) : () => undefined,
  };
}

/**
 * node-postgres connection settings for a target: each field given on its own, never a
 * connection string (pg-connection-string would put its own reading of `sslmode` over `ssl`).
 */
export async function pgConnectOptions(t: PostgresTarget, password: string | undefined): Promise<{ host: string; port: number; user: string; database: string; password?: string; ssl: false | ConnectionOptions }> {
  return { host: t.host, port: t.port, user: t.user, database: t.database, ...(password === undefined ? {} : { password }), ssl: await pgSsl(t.tls, t.host) };
}

/**
 * mysql2's TLS options for the same modes (mysql2 builds its own TLS context from `ca` and checks
 * the host itself with `verifyIdentity`, against the IP or name it connected to).
 */
export async function mysqlSsl(tls: DatabaseTls, readFile?: (path: string) => string): Promise<SslOptions | undefined> {
  if (tls.mode === 'disable') return undefined;
  if (tls.mode === 'require' || !tls.ca) return { rejectUnauthorized: false };
  const ca = await loadCa(tls.ca, tls.keys, readFile);
  return { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: true, verifyIdentity: tls.mode === 'verify-full' };
}

/** OpenSSL's and Node's codes for a server certificate that did not verify. */
const CERT_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/**
 * A connect error rewritten as one line when the server's certificate did not verify: the host,
 * the mode, the CA source and what to set. Any other error comes back unchanged.
 */
export function explainTlsError(e: unknown, tls: DatabaseTls, host: string): unknown {
  const code = (e as { code?: unknown }).code;
  const reason = String((e as { message?: unknown }).message ?? code).split('\n')[0];
  // mysql2 reports every TLS failure as HANDSHAKE_SSL_ERROR, with Node's message
  const certificate = typeof code === 'string' && (CERT_ERRORS.has(code) || (code === 'HANDSHAKE_SSL_ERROR' && /certificate|altnames/i.test(reason)));
  if (!certificate) return e;
  const { mode: modeKey, ca: caKey } = tls.keys;
  const hostname = code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH' || /altnames/i.test(reason);
  const what = hostname
    ? `set the URL's host to a name the certificate holds, or ${modeKey}=${modeKey === 'sslmode' ? 'verify-ca' : 'VERIFY_CA'} to skip the name check`
    : `set ${caKey}=<PEM file of the CA that signed the server's certificate> (or ${caKey}=rds on Amazon RDS, ${caKey}=azure on Azure)`;
  const err = new Error(`TLS: the database server ${host} presented a certificate that did not verify (${code}: ${reason}) with ${modeKey}=${tls.modeText} against ${describeCa(tls.ca)}; ${what}`);
  (err as { code?: string }).code = code;
  return err;
}
