import { execFileSync } from 'child_process';
import { psQuote, shQuote } from '../../lib/boot';
import { psArray, sh, shArray, shHeredoc } from '../../lib/boot/quote';

const NASTY = [
  '',
  'plain',
  'two words',
  "it's",
  '"double"',
  '$(touch /tmp/fg-injected)',
  '`touch /tmp/fg-injected`',
  '$HOME ${PATH} $1 $@',
  "'; rm -rf / #",
  'back\\slash \\n \\',
  'new\nline',
  'glob * ? [a]',
  '‘typographic’ ‚quotes‛',
  '-n',
];

/** What bash makes of a word: printf it between markers. */
const bashSees = (word: string): string => execFileSync('bash', ['-c', `printf '<%s>' ${word}`], { encoding: 'utf8' });

describe('shQuote', () => {
  it.each(NASTY.map((v) => [v]))('bash reads %j back exactly', (value) => {
    expect(bashSees(shQuote(value))).toBe(`<${value}>`);
  });

  it('refuses NUL, which no shell word can hold', () => {
    expect(() => shQuote('a\0b')).toThrow('shQuote: a NUL character cannot be passed to a shell');
  });

  it('builds arrays whose elements stay whole', () => {
    const out = execFileSync('bash', ['-c', `a=${shArray(NASTY)}; printf '<%s>' "\${a[@]}"`], { encoding: 'utf8' });
    expect(out).toBe(NASTY.map((v) => `<${v}>`).join(''));
  });
});

describe('shHeredoc', () => {
  it('writes the body verbatim, even a line equal to the usual delimiter', () => {
    const body = 'a=$(touch x)\n`b`\nFG_EOF\n$HOME\n';
    const out = execFileSync('bash', ['-c', shHeredoc('cat', body)], { encoding: 'utf8' });
    expect(out).toBe(body);
  });
});

describe('sh template tag', () => {
  it('keeps backslashes and turns \\${ into a bash ${, leaving interpolated values alone', () => {
    const value = 'x\\${y}';
    expect(sh`printf '%s\n' "\${A:-}" ${value}`).toBe(`printf '%s\\n' "\${A:-}" x\\\${y}`);
  });
});

describe('psQuote', () => {
  it('wraps in single quotes and doubles a quote', () => {
    expect(psQuote("it's")).toBe("'it''s'");
    expect(psQuote('')).toBe("''");
  });

  it('doubles the typographic single quotes PowerShell also ends a string with', () => {
    expect(psQuote('a‘b’c‚d‛e')).toBe("'a‘‘b’’c‚‚d‛‛e'");
  });

  it('leaves $, backtick, double quotes and $(...) literal (nothing is special inside single quotes)', () => {
    const value = '$(Remove-Item C:\\ -Recurse) `n "$env:PATH" ${x} @(1)';
    expect(psQuote(value)).toBe(`'${value}'`);
  });

  it('never leaves an odd quote run that could end the string early', () => {
    for (const value of NASTY) {
      const inner = psQuote(value).slice(1, -1);
      // every run of quote characters inside is even: each pair is one literal quote
      for (const run of inner.match(/['‘’‚‛]+/g) ?? []) expect(run.length % 2).toBe(0);
    }
  });

  it('refuses NUL', () => {
    expect(() => psQuote('a\0b')).toThrow('psQuote: a NUL character cannot be passed to PowerShell');
  });

  it('builds arrays', () => {
    expect(psArray(["a'b", 'c'])).toBe("@('a''b', 'c')");
  });
});
