import { gzipSync } from 'zlib';
import type { Problem } from '../problems/problems';
import { splitStringTokens } from '../contracts/tokens';

/**
 * Terraform fills in each `${TfToken[…]}` at apply time (a bucket name ≤ 63, an RDS endpoint, an ARN ≈ 100).
 * Counting each as this many incompressible bytes keeps the check on the safe side.
 */
export const LATE_BOUND_VALUE_BYTES = 128;
/** Terraform's base64gzip (Go's flate) may compress a little worse than zlib here. */
const GZIP_MARGIN = 1.1;

/**
 * Bytes of user data once Terraform has filled in its references (each counted at its
 * longest), gzip-compressed first when `gzip` (cloud-init unpacks gzip user data itself).
 */
export function userDataBytes(text: string, gzip = false): number {
  const { literals, tokens } = splitStringTokens(text);
  const literal = literals.join('');
  const literalBytes = gzip ? Math.ceil(gzipSync(literal).length * GZIP_MARGIN) : Buffer.byteLength(literal, 'utf8');
  return literalBytes + tokens.length * LATE_BOUND_VALUE_BYTES;
}

/** A problem naming `prop` when the user data / custom data would exceed the cloud's limit. */
export function userDataSizeProblems(prop: string, text: string, limit: { readonly maxBytes: number; readonly what: string; readonly gzip?: boolean }): Problem[] {
  const bytes = userDataBytes(text, limit.gzip);
  if (bytes <= limit.maxBytes) return [];
  const how = limit.gzip ? 'gzip-compressed, ' : '';
  return [
    {
      path: prop,
      message: `makes the ${limit.what} ${bytes} bytes (${how}references counted at ${LATE_BOUND_VALUE_BYTES} bytes each), over its limit of ${limit.maxBytes}: run a script the image or a download provides instead`,
    },
  ];
}
