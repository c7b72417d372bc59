import { execFileSync } from 'child_process';
import { chownSync, mkdirSync, writeFileSync } from 'fs';
import { isIP } from 'net';
import { join } from 'path';

/** A private CA and a server certificate it signed, as PEM files in one folder. */
export interface TestCertificates {
  /** The CA certificate (PEM): what a client needs in `sslrootcert` / `ssl-ca`. Never in Node's store. */
  readonly ca: string;
  readonly cert: string;
  /** The server's private key, mode 0600 (PostgreSQL refuses a key others can read). */
  readonly key: string;
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A throwaway CA (P-256: fast to make) named `name`, in `dir`; returns the CA and its key. */
export function makeTestCa(dir: string, name = 'failover-guard test CA'): { ca: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const ca = join(dir, 'ca.pem');
  const key = join(dir, 'ca.key');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', ca, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  return { ca, key };
}

/**
 * A private CA made for this run and a server certificate for `names` (IP addresses and DNS
 * names; 127.0.0.1 and localhost always), as a managed database presents one: the client can
 * verify it only with the CA (verify-full), never with Node's built-in roots.
 * `owner`: uid/gid the key is handed to (the server process's user).
 */
export function makeServerCertificates(dir: string, names: readonly string[] = [], owner?: { uid?: number; gid?: number }): TestCertificates {
  const { ca, key: caKey } = makeTestCa(dir);
  const f = (name: string) => join(dir, name);
  const all = [...new Set(['127.0.0.1', 'localhost', ...names])];
  const san = all.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('server.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext'));
  execFileSync('chmod', ['0600', f('server.key')]);
  if (owner?.uid !== undefined) chownSync(f('server.key'), owner.uid, owner.gid ?? owner.uid);
  return { ca, cert: f('server.pem'), key: f('server.key') };
}
