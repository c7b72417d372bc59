import { splitStringTokens } from '../contracts/tokens';

/**
 * cdktf encodes references as `${TfToken[TOKEN.n]}` inside strings and writes strings as
 * Terraform templates, where a literal `${` or `%{` (every bash `${VAR}`) would be read as an
 * interpolation or directive. This escapes them (`$${`, `%%{`) everywhere except in the token
 * markers, so a boot script reaches the VM byte for byte while its references still resolve.
 */
export function escapeTemplateLiterals(text: string): string {
  const escape = (s: string): string => s.replace(/([$%])\{/g, (_m, sigil: string) => `${sigil}${sigil}{`);
  const { literals, tokens } = splitStringTokens(text);
  return literals.map((literal, i) => escape(literal) + (tokens[i] ?? '')).join('');
}
