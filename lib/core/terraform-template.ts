/**
 * cdktf encodes references as `${TfToken[TOKEN.n]}` inside strings and writes strings as
 * Terraform templates, where a literal `${` or `%{` (every bash `${VAR}`) would be read as an
 * interpolation or directive. This escapes them (`$${`, `%%{`) everywhere except in the token
 * markers, so a boot script reaches the VM byte for byte while its references still resolve.
 */
const TOKEN_MARKER = /\$\{TfToken\[[^\]]+\]\}/g;

export function escapeTemplateLiterals(text: string): string {
  const escape = (s: string): string => s.replace(/([$%])\{/g, (_m, sigil: string) => `${sigil}${sigil}{`);
  let out = '';
  let last = 0;
  for (const m of text.matchAll(TOKEN_MARKER)) {
    out += escape(text.slice(last, m.index)) + m[0];
    last = m.index! + m[0].length;
  }
  return out + escape(text.slice(last));
}
