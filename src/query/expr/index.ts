// The --where expression language: parse, compile to a record predicate, and find a literal
// that every matching line must contain so that the engine can skip other lines unparsed.

import type { Expr } from './ast.js';
import { compileExpr, type Predicate } from './compile.js';
import { canonicalPath, isVerbatimPath } from './fields.js';
import { parseExpression } from './parser.js';
import { requiredLiteral } from '../regex.js';

export type { Expr } from './ast.js';
export type { Predicate } from './compile.js';
export { parseExpression } from './parser.js';
export { fieldGetter, canonicalPath } from './fields.js';

export interface CompiledWhere {
  ast: Expr;
  predicate: Predicate;
  /** A string every matching record's raw line contains (unless the line has escapes). */
  literal: string | undefined;
}

/** Parses and compiles a --where expression; throws ExpressionError with a caret position. */
export function compileWhere(expression: string): CompiledWhere {
  const ast = parseExpression(expression);
  return { ast, predicate: compileExpr(ast, expression), literal: longest(requiredLiterals(ast)) };
}

/**
 * Literals that every record matching `expr` carries verbatim in its line. Only conjunctions
 * contribute: under `or` or `not`, no single literal is required.
 */
export function requiredLiterals(expr: Expr): string[] {
  switch (expr.kind) {
    case 'and':
      return [...requiredLiterals(expr.left), ...requiredLiterals(expr.right)];
    case 'compare': {
      if (!isVerbatimPath(expr.path)) return [];
      const v = expr.value;
      if (expr.op === '=' && v.kind === 'string' && isSearchable(v.value)) return [v.value];
      if (expr.op === '~') {
        const source = v.kind === 'regex' ? v.source : v.kind === 'string' ? v.value : v.text;
        const lit = requiredLiteral(source, v.kind === 'regex' ? v.flags : '');
        return lit !== undefined && isSearchable(lit) ? [lit] : [];
      }
      return [];
    }
    default:
      return [];
  }
}

/** The record paths an expression reads, in canonical form ("user_id" → "fields.user_id"). */
export function exprPaths(expr: Expr, into = new Set<string>()): Set<string> {
  switch (expr.kind) {
    case 'and':
    case 'or':
      exprPaths(expr.left, into);
      exprPaths(expr.right, into);
      break;
    case 'not':
      exprPaths(expr.operand, into);
      break;
    default:
      into.add(canonicalPath(expr.path));
  }
  return into;
}

function isSearchable(s: string): boolean {
  return s.length > 0 && !/[\u0000-\u001f\u007f\ufffd]/.test(s);
}

function longest(list: string[]): string | undefined {
  let best: string | undefined;
  for (const s of list)
    if (best === undefined || Buffer.byteLength(s) > Buffer.byteLength(best)) best = s;
  return best;
}
