// A recursive-descent parser for the --where language. Precedence, loosest first: or, and,
// not; parentheses group. The grammar in EBNF is in docs/query.md.

import { ExpressionError } from '../../errors.js';
import type { CompareOp, Expr, Literal } from './ast.js';
import { tokenize, type Token } from './tokens.js';

/**
 * Limits that keep the parser, the compiler and the evaluator (all recursive) far from the
 * stack's end: an expression past them is an error with a caret, not a stack overflow.
 */
const MAX_NESTING = 64;
const MAX_CONDITIONS = 1000;

class Parser {
  private i = 0;
  private depth = 0;
  private conditions = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    if (this.peek().kind === 'end') this.fail('the expression is empty', this.peek());
    const expr = this.orExpr();
    const rest = this.peek();
    if (rest.kind !== 'end') {
      const hint = rest.kind === 'rparen' ? 'a ")" without its "("' : `"${rest.text}"`;
      this.fail(`expected "and", "or" or the end, found ${hint}`, rest);
    }
    return expr;
  }

  private orExpr(): Expr {
    let left = this.andExpr();
    while (this.peek().kind === 'or') {
      this.i++;
      left = { kind: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  private andExpr(): Expr {
    let left = this.unary();
    while (this.peek().kind === 'and') {
      this.i++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.peek().kind === 'not') {
      this.enter(this.next());
      const operand = this.unary();
      this.depth--;
      return { kind: 'not', operand };
    }
    return this.primary();
  }

  /** Counts one level of nesting (a "(" or a "not") at `t`. */
  private enter(t: Token): void {
    if (++this.depth > MAX_NESTING) this.fail(`nested more than ${MAX_NESTING} levels deep`, t);
  }

  private primary(): Expr {
    const t = this.next();
    if (t.kind === 'lparen') {
      this.enter(t);
      const inner = this.orExpr();
      const close = this.next();
      if (close.kind !== 'rparen') this.fail('expected ")" to close the "("', close);
      this.depth--;
      return inner;
    }
    if (t.kind !== 'word') this.fail(`expected a field name such as http.status`, t);
    if (++this.conditions > MAX_CONDITIONS) {
      this.fail(`more than ${MAX_CONDITIONS} conditions in one expression`, t);
    }
    return this.condition(t);
  }

  private condition(field: Token): Expr {
    const path = field.text;
    if (path.endsWith('.') || path.includes('..'))
      this.fail('a field path has an empty part', field);
    const t = this.next();
    if (t.kind === 'exists') return { kind: 'exists', path, pos: field.pos };
    if (t.kind === 'in') return this.inList(path, field.pos);
    if (t.kind === 'not' && this.peek().kind === 'in') {
      this.i++;
      return { kind: 'not', operand: this.inList(path, field.pos) };
    }
    if (t.kind !== 'op') {
      this.fail(`expected an operator (= != < <= > >= ~ !~ in exists) after "${path}"`, t);
    }
    const op = t.text as CompareOp;
    const valueToken = this.peek();
    const value = this.literal();
    if (value.kind === 'regex' && op !== '~' && op !== '!~') {
      this.fail(`a /regex/ only goes with ~ or !~, not ${op}`, valueToken);
    }
    return { kind: 'compare', path, op, value, pos: field.pos, valuePos: valueToken.pos };
  }

  private inList(path: string, pos: number): Expr {
    const open = this.next();
    if (open.kind !== 'lparen') this.fail('expected "(" after "in"', open);
    const values: Literal[] = [this.literal()];
    while (this.peek().kind === 'comma') {
      this.i++;
      values.push(this.literal());
    }
    const close = this.next();
    if (close.kind !== 'rparen') this.fail('expected "," or ")" in the "in" list', close);
    return { kind: 'in', path, values, pos };
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { kind: 'number', value: Number(t.text), text: t.text };
      case 'string':
        return { kind: 'string', value: t.text };
      case 'word':
        return { kind: 'string', value: t.text };
      case 'regex':
        return { kind: 'regex', source: t.text, flags: t.flags ?? '' };
      case 'time': {
        const iso = /T/i.test(t.text) ? t.text : `${t.text}T00:00:00Z`;
        const hasZone = /(?:[Zz]|[+-]\d{2}:?\d{2})$/.test(iso);
        const ms = Date.parse(hasZone ? iso : iso + 'Z');
        if (!Number.isFinite(ms)) this.fail(`"${t.text}" is not a valid time`, t);
        return { kind: 'time', value: ms, text: t.text };
      }
      default:
        return this.fail('expected a value: a number, a "quoted string", a time or a word', t);
    }
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== 'end') this.i++;
    return t;
  }

  private fail(message: string, at: Token): never {
    const found = at.kind === 'end' ? ' (reached the end)' : '';
    throw new ExpressionError(`${message}${found}`, this.src, at.pos);
  }
}

/** Parses a --where expression into its syntax tree, or throws ExpressionError. */
export function parseExpression(expression: string): Expr {
  return new Parser(expression, tokenize(expression)).parse();
}
