/**
 * "Is this value known yet?" for every folder, without importing cdktf (no layer below lib/synth
 * may). cdktf stands in for a value Terraform learns only at apply time (a
 * resource id, an endpoint) with an encoded token: `${TfToken[TOKEN.12]}` inside a string,
 * `#{TfToken[TOKEN.3]}` as the one element of a string list, `&{TfToken[…]}` as a map key,
 * and special NaN-free doubles for numbers. This mirrors cdktf's `Token.isUnresolved`
 * (cdktf/lib/tokens/private/encoding.js); test/contracts/tokens.test.ts checks the two agree on
 * tokens cdktf itself makes. Checks that need a literal skip unresolved values: Terraform or
 * the cloud checks them at apply time.
 */

const KEY = '[a-zA-Z0-9:._-]+';
const STRING_TOKEN = new RegExp(`\\$\\{TfToken\\[${KEY}\\]\\}`);
const LIST_TOKEN = new RegExp(`#\\{TfToken\\[${KEY}\\]\\}`);
const MAP_TOKEN = new RegExp(`&\\{TfToken\\[${KEY}\\]\\}`);

// The top 16 bits (sign and exponent) of a double that encodes a number token / a number-list token.
const NUMBER_TOKEN_BITS = 0xfdff << 16;
const NUMBER_LIST_TOKEN_BITS = 0xfbff << 16;

function isNumberToken(value: number, list: boolean): boolean {
  const buf = new ArrayBuffer(8);
  new Float64Array(buf)[0] = value;
  // native byte order, as cdktf encodes it
  return (new Uint32Array(buf)[1] & 0xffff0000) === (list ? NUMBER_LIST_TOKEN_BITS : NUMBER_TOKEN_BITS);
}

/** True when `value` is, or contains, a value Terraform fills in at apply time. */
export function isUnresolved(value: unknown): boolean {
  if (typeof value === 'string') return STRING_TOKEN.test(value);
  if (typeof value === 'number') return isNumberToken(value, false);
  if (Array.isArray(value)) {
    if (value.length !== 1) return false;
    const [only] = value as unknown[];
    return (typeof only === 'string' && LIST_TOKEN.test(only)) || (typeof only === 'number' && isNumberToken(only, true));
  }
  if (value !== null && typeof value === 'object') {
    // a map token, or a cdktf IResolvable (anything with resolve())
    return Object.keys(value).some((k) => MAP_TOKEN.test(k)) || typeof (value as { resolve?: unknown }).resolve === 'function';
  }
  return false;
}

/** A value given and known now (not a token): the only kind a literal-shape check can judge. */
export function isKnown(value: string | undefined): value is string {
  return value !== undefined && !isUnresolved(value);
}

/**
 * A text cut at its `${TfToken[…]}` markers, like a template's parts: `literals` has one more
 * element than `tokens` and they interleave as literals[0], tokens[0], literals[1], …
 */
export function splitStringTokens(text: string): { readonly literals: string[]; readonly tokens: string[] } {
  const parts = text.split(new RegExp(`(${STRING_TOKEN.source})`));
  return { literals: parts.filter((_, i) => i % 2 === 0), tokens: parts.filter((_, i) => i % 2 === 1) };
}
