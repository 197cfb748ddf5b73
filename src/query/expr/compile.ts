// Compiles a --where syntax tree into a predicate over records: closures built once, so the
// per-record cost is a few property reads and comparisons.

import { ExpressionError } from '../../errors.js';
import { LEVEL_RANK, LEVELS, isLevel, type LogRecord } from '../../record/record.js';
import { compileUserRegex } from '../regex.js';
import type { CompareOp, Expr, Literal } from './ast.js';
import { canonicalPath, fieldGetter, type Getter } from './fields.js';

export type Predicate = (rec: LogRecord) => boolean;

/** Compiles the tree; `source` is the expression text, for errors that point into it. */
export function compileExpr(expr: Expr, source: string): Predicate {
  switch (expr.kind) {
    case 'and': {
      const l = compileExpr(expr.left, source);
      const r = compileExpr(expr.right, source);
      return (rec) => l(rec) && r(rec);
    }
    case 'or': {
      const l = compileExpr(expr.left, source);
      const r = compileExpr(expr.right, source);
      return (rec) => l(rec) || r(rec);
    }
    case 'not': {
      const p = compileExpr(expr.operand, source);
      return (rec) => !p(rec);
    }
    case 'exists': {
      const get = fieldGetter(expr.path);
      return (rec) => get(rec) !== undefined;
    }
    case 'in': {
      const tests = expr.values.map((v) => compileCompare(expr.path, '=', v, source, expr.pos));
      return (rec) => tests.some((t) => t(rec));
    }
    case 'compare':
      return compileCompare(expr.path, expr.op, expr.value, source, expr.valuePos);
  }
}

function compileCompare(
  path: string,
  op: CompareOp,
  lit: Literal,
  source: string,
  pos: number,
): Predicate {
  const get = fieldGetter(path);
  const canonical = canonicalPath(path);
  if (op === '~' || op === '!~') {
    const re = regexOf(lit, source, pos);
    const test: Predicate = (rec) => {
      const v = get(rec);
      return v !== undefined && re.test(typeof v === 'string' ? v : stringOf(v));
    };
    return op === '~' ? test : (rec) => !test(rec);
  }
  if (canonical === 'level') return levelCompare(op, lit, source, pos);
  if (canonical === 'timestamp') return timeCompare(get, op, lit, source, pos);
  if (op === '=' || op === '!=') {
    const eq = equality(get, lit);
    return op === '=' ? eq : (rec) => !eq(rec);
  }
  return ordering(get, op, lit);
}

function regexOf(lit: Literal, source: string, pos: number): RegExp {
  if (lit.kind === 'regex') return compileRegexAt(lit.source, lit.flags, source, pos);
  const text = lit.kind === 'string' ? lit.value : lit.text;
  return compileRegexAt(text, '', source, pos);
}

function compileRegexAt(pattern: string, flags: string, source: string, pos: number): RegExp {
  try {
    return compileUserRegex(pattern, flags, 'regex');
  } catch (err) {
    throw new ExpressionError((err as Error).message.replace(/^regex: /, ''), source, pos);
  }
}

function levelCompare(op: CompareOp, lit: Literal, source: string, pos: number): Predicate {
  const name = lit.kind === 'string' ? lit.value.toLowerCase() : '';
  if (!isLevel(name)) {
    throw new ExpressionError(`a level is one of ${LEVELS.join(', ')}`, source, pos);
  }
  const want = LEVEL_RANK[name];
  const cmp = orderTest(op);
  return (rec) => cmp(LEVEL_RANK[rec.level] - want);
}

function timeCompare(
  get: Getter,
  op: CompareOp,
  lit: Literal,
  source: string,
  pos: number,
): Predicate {
  let ms: number;
  if (lit.kind === 'time') ms = lit.value;
  else if (lit.kind === 'string' && Number.isFinite(Date.parse(lit.value))) {
    ms = Date.parse(lit.value);
  } else {
    throw new ExpressionError(
      'timestamp compares with a time such as 2026-03-01T08:00:00Z',
      source,
      pos,
    );
  }
  // Record timestamps are UTC with exactly three fractional digits, so a string comparison
  // against the bound written the same way orders them correctly without parsing each one.
  const iso = new Date(ms).toISOString();
  const cmp = orderTest(op);
  return (rec) => {
    const v = get(rec);
    return typeof v === 'string' && cmp(v < iso ? -1 : v > iso ? 1 : 0);
  };
}

function orderTest(op: CompareOp): (diff: number) => boolean {
  switch (op) {
    case '=':
      return (d) => d === 0;
    case '!=':
      return (d) => d !== 0;
    case '<':
      return (d) => d < 0;
    case '<=':
      return (d) => d <= 0;
    case '>':
      return (d) => d > 0;
    default:
      return (d) => d >= 0;
  }
}

function equality(get: Getter, lit: Literal): Predicate {
  if (lit.kind === 'number') {
    const n = lit.value;
    const big = Number.isInteger(n) && /^-?\d+$/.test(lit.text) ? BigInt(lit.text) : undefined;
    return (rec) => {
      const v = get(rec);
      if (typeof v === 'number') return v === n;
      if (typeof v === 'bigint') return big !== undefined && v === big;
      if (typeof v === 'string') return v.trim() !== '' && Number(v) === n;
      return false;
    };
  }
  if (lit.kind === 'time') {
    return (rec) => {
      const v = get(rec);
      return typeof v === 'string' && Date.parse(v) === lit.value;
    };
  }
  const s = lit.kind === 'string' ? lit.value : lit.source;
  return (rec) => {
    const v = get(rec);
    if (typeof v === 'string') return v === s;
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
      return String(v) === s;
    }
    return false;
  };
}

function ordering(get: Getter, op: CompareOp, lit: Literal): Predicate {
  const cmp = orderTest(op);
  if (lit.kind === 'number') {
    const n = lit.value;
    return (rec) => {
      const v = get(rec);
      const x =
        typeof v === 'number'
          ? v
          : typeof v === 'bigint'
            ? Number(v)
            : typeof v === 'string' && v.trim() !== ''
              ? Number(v)
              : NaN;
      return !Number.isNaN(x) && cmp(x < n ? -1 : x > n ? 1 : 0);
    };
  }
  if (lit.kind === 'time') {
    return (rec) => {
      const v = get(rec);
      const x = typeof v === 'string' ? Date.parse(v) : NaN;
      return !Number.isNaN(x) && cmp(x < lit.value ? -1 : x > lit.value ? 1 : 0);
    };
  }
  const s = lit.kind === 'string' ? lit.value : lit.source;
  return (rec) => {
    const v = get(rec);
    if (v === undefined || v === null || typeof v === 'object') return false;
    const x = typeof v === 'string' ? v : String(v);
    return cmp(x < s ? -1 : x > s ? 1 : 0);
  };
}

function stringOf(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object')
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}
