/**
 * Quoting helpers: every value from a spec or a context reaches a script only through these,
 * so a value is always data, never code.
 */

/**
 * A bash word that expands to exactly `value`: single quotes, each `'` written as `'\''`.
 * Nothing inside single quotes is special to bash (no `$`, backtick, `\` or glob).
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('shQuote: a NUL character cannot be passed to a shell');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** PowerShell treats these four typographic quotes like `'` in a single-quoted string. */
const PS_SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

/**
 * A PowerShell single-quoted string literal that evaluates to exactly `value`. Inside `'…'`
 * only a quote is special (`$`, backtick and `"` are literal); a quote, ASCII or typographic,
 * is escaped by doubling it.
 */
export function psQuote(value: string): string {
  if (value.includes('\0')) throw new Error('psQuote: a NUL character cannot be passed to PowerShell');
  return `'${value.replace(PS_SINGLE_QUOTES, '$&$&')}'`;
}

/** A bash array literal, `( 'a' 'b' )`, each element through {@link shQuote}. */
export function shArray(values: readonly string[]): string {
  return values.length === 0 ? '()' : `( ${values.map(shQuote).join(' ')} )`;
}

/** A PowerShell array literal, `@('a', 'b')`, each element through {@link psQuote}. */
export function psArray(values: readonly string[]): string {
  return `@(${values.map(psQuote).join(', ')})`;
}

/**
 * A here-document whose body is written verbatim (quoted delimiter: no expansion at all). The
 * delimiter is chosen so that no line of the body can end it early.
 */
export function shHeredoc(command: string, body: string): string {
  const lines = body.endsWith('\n') ? body.slice(0, -1).split('\n') : body.split('\n');
  let delimiter = 'FG_EOF';
  for (let n = 1; lines.includes(delimiter); n++) delimiter = `FG_EOF_${n}`;
  return `${command} <<'${delimiter}'\n${lines.join('\n')}\n${delimiter}`;
}

/**
 * Template tag for static bash text: backslashes stay as written (like String.raw) and `\${`
 * in the template stands for a bash `${`. Only the template's own text is touched, never an
 * interpolated value.
 */
export function sh(strings: TemplateStringsArray, ...values: string[]): string {
  const raw = strings.raw.map((s) => s.replace(/\\\$\{/g, '${'));
  return String.raw({ raw }, ...values);
}
