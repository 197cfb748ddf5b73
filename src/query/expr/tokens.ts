// The tokenizer of the --where expression language: turns the text into tokens that carry
// their column, so that every error can point a caret at the problem.

import { ExpressionError } from '../../errors.js';

export type TokenKind =
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'op'
  | 'and'
  | 'or'
  | 'not'
  | 'in'
  | 'exists'
  | 'number'
  | 'string'
  | 'time'
  | 'regex'
  | 'word'
  | 'end';

export interface Token {
  kind: TokenKind;
  /** The token as written (for strings and regexes: the decoded content). */
  text: string;
  /** Column of the token's first character, from 0. */
  pos: number;
  /** Regex flags, for regex tokens. */
  flags?: string;
}

const KEYWORDS: Record<string, TokenKind> = {
  and: 'and',
  or: 'or',
  not: 'not',
  in: 'in',
  exists: 'exists',
};

const OPERATORS = ['!=', '<=', '>=', '!~', '==', '&&', '||', '=', '<', '>', '~', '!'];
const TIME =
  /\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?(?![\w.:-])/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])/y;
const WORD = /[A-Za-z_@$][\w@$.-]*/y;

/** Splits an expression into tokens, ending with one 'end' token. */
export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const token = readToken(expression, i);
    tokens.push(token.token);
    i = token.next;
  }
  tokens.push({ kind: 'end', text: '', pos: expression.length });
  return tokens;
}

function readToken(src: string, i: number): { token: Token; next: number } {
  const c = src[i];
  if (c === '(') return { token: { kind: 'lparen', text: c, pos: i }, next: i + 1 };
  if (c === ')') return { token: { kind: 'rparen', text: c, pos: i }, next: i + 1 };
  if (c === ',') return { token: { kind: 'comma', text: c, pos: i }, next: i + 1 };
  if (c === '"' || c === "'") return readString(src, i);
  if (c === '/') return readRegex(src, i);
  const matched = sticky(TIME, src, i, 'time') ?? sticky(NUMBER, src, i, 'number');
  if (matched) return matched;
  const word = sticky(WORD, src, i, 'word');
  if (word) {
    const lower = word.token.text.toLowerCase();
    if (Object.hasOwn(KEYWORDS, lower)) word.token.kind = KEYWORDS[lower];
    return word;
  }
  for (const op of OPERATORS) {
    if (src.startsWith(op, i)) return { token: operatorToken(op, i), next: i + op.length };
  }
  throw new ExpressionError(`unexpected character ${JSON.stringify(c)}`, src, i);
}

function operatorToken(op: string, pos: number): Token {
  if (op === '&&') return { kind: 'and', text: op, pos };
  if (op === '||') return { kind: 'or', text: op, pos };
  if (op === '!') return { kind: 'not', text: op, pos };
  return { kind: 'op', text: op === '==' ? '=' : op, pos };
}

function sticky(re: RegExp, src: string, i: number, kind: TokenKind) {
  re.lastIndex = i;
  const m = re.exec(src);
  return m ? { token: { kind, text: m[0], pos: i } as Token, next: i + m[0].length } : undefined;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

function readString(src: string, start: number): { token: Token; next: number } {
  const quote = src[start];
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const c = src[i];
    if (c === quote) return { token: { kind: 'string', text: out, pos: start }, next: i + 1 };
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) break;
      out += ESCAPES[e] ?? '\\' + e;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  throw new ExpressionError('string is not closed; add the missing quote', src, start);
}

function readRegex(src: string, start: number): { token: Token; next: number } {
  let i = start + 1;
  let body = '';
  let inClass = false;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\' && i + 1 < src.length) {
      body += c + src[i + 1];
      i += 2;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      const flags = /^[imsu]*/.exec(src.slice(i + 1))?.[0] ?? '';
      const token: Token = { kind: 'regex', text: body, pos: start, flags };
      return { token, next: i + 1 + flags.length };
    }
    body += c;
    i++;
  }
  throw new ExpressionError('regex is not closed; add the missing /', src, start);
}
