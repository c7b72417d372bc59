import { Fn, Lazy, TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import { isKnown, isUnresolved, splitStringTokens } from '../../lib/contracts/tokens';

// lib/contracts/tokens.ts reimplements cdktf's token check without importing cdktf; here the real
// cdktf makes every kind of token it has, and the two answers must agree on each.
const stack = new TerraformStack(Testing.app(), 'tokens');
const variable = new TerraformVariable(stack, 'v', { type: 'string' });
const lazy = Lazy.stringValue({ produce: () => 'x' });

const cases: Array<[string, unknown]> = [
  ['a string token', Token.asString(lazy)],
  ['a variable reference', variable.stringValue],
  ['a token inside a longer string', `prefix-${variable.stringValue}-suffix`],
  ['an Fn result', Fn.join(',', ['a', variable.stringValue])],
  ['a string list token', Token.asList(lazy)],
  ['a variable as a list', variable.listValue],
  ['a number token', Token.asNumber(lazy)],
  ['a variable as a number', variable.numberValue],
  ['a number list token', Token.asNumberList(lazy)],
  ['a string map token', Token.asStringMap(lazy)],
  ['a resolvable object', lazy],
  ['a plain string', 'ami-0123456789abcdef0'],
  ['a Terraform interpolation written by hand', '${var.x}'],
  ['a half marker', '${TfToken[TOKEN.1'],
  ['a list marker in a plain string (not a list)', '#{TfToken[TOKEN.1]}'],
  ['an empty string', ''],
  ['zero', 0],
  ['a large number', -1.8881545897087626e289],
  ['NaN', Number.NaN],
  ['a list of two strings', ['a', 'b']],
  ['a one-element plain list', ['a']],
  ['an empty list', []],
  ['a plain object', { a: 1 }],
  ['undefined', undefined],
  ['null', null],
  ['a boolean', true],
];

describe('isUnresolved (cdktf-free)', () => {
  it.each(cases)('agrees with cdktf Token.isUnresolved on %s', (_name, value) => {
    expect(isUnresolved(value)).toBe(Token.isUnresolved(value));
  });

  it('covers tokens and non-tokens alike (the table above is not one-sided)', () => {
    const answers = cases.map(([, v]) => Token.isUnresolved(v));
    expect(answers.filter(Boolean).length).toBeGreaterThanOrEqual(10);
    expect(answers.filter((a) => !a).length).toBeGreaterThanOrEqual(10);
  });

  it('isKnown: given and not a token', () => {
    expect(isKnown('eu-west-1')).toBe(true);
    expect(isKnown(undefined)).toBe(false);
    expect(isKnown(variable.stringValue)).toBe(false);
  });
});

describe('splitStringTokens', () => {
  it('cuts a text at its string tokens, literals and tokens interleaved', () => {
    const token = Token.asString(lazy);
    const { literals, tokens } = splitStringTokens(`a ${token}b${token}`);
    expect(tokens).toEqual([token, token]);
    expect(literals).toEqual(['a ', 'b', '']);
  });

  it('a text without tokens is one literal; a hand-written ${…} is literal text', () => {
    expect(splitStringTokens('x ${HOME} y')).toEqual({ literals: ['x ${HOME} y'], tokens: [] });
  });
});
