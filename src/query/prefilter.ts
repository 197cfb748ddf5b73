// Raw-line prefilters: cheap tests on a line's bytes that reject lines which cannot match,
// before the line is decoded and parsed. Every test is conservative: it may let through a line
// that the record filter then rejects, never the reverse. Lines are looked at as latin1
// strings, so string offsets are byte offsets and ASCII words are found in any UTF-8 text.

import { LEVEL_RANK, type Level } from '../record/record.js';
import { SYSLOG_SEVERITY_LEVEL } from '../parse/level.js';
import type { FilterOptions, RecordFilter } from './filter.js';
import { isPureLiteral, requiredLiteral } from './regex.js';
import type { LiteralSearch } from './literal.js';
import { canonicalPath, type Expr } from './expr/index.js';

/** A test on one line (latin1 string, no newline); false means it cannot match. */
export type LineCheck = (line: string) => boolean;

export interface Prefilter {
  /** Every matching line contains these bytes, or a backslash (an escape may hide them). */
  literal: Buffer | undefined;
  /** The search for `literal`, tuned on the first block read (set by the scanner). */
  literalSearch?: LiteralSearch;
  /** Or: candidate lines are those where this global regex matches (over latin1 text). */
  candidates: RegExp | undefined;
  /**
   * With `candidates`: decides each match; a refused match does not make its line a candidate
   * (the search goes on in the same line).
   */
  candidateTest?: (m: RegExpExecArray) => boolean;
  /** The candidate search reads log-file syntax (an access-log status), not stored JSON. */
  candidatesFileOnly?: boolean;
  /** --level's floor, for the NDJSON fast path (probe/json-level.ts). */
  jsonLevel?: { min: Level };
  /** Further tests each candidate line must pass. */
  checks: LineCheck[];
  /**
   * With -v on a literal: a line without these bytes (and without a backslash) surely has a
   * message that does not match, so it passes the grep without being parsed.
   */
  invertLiteral: Buffer | undefined;
}

const BACKSLASH = '\\\\';

/** Substrings (any case) of the level words at each level, per src/parse/level.ts. */
const LEVEL_WORDS: Partial<Record<Level, string[]>> = {
  notice: ['notice'],
  warn: ['warn', 'wrn'],
  error: ['err', 'eror', 'severe'],
  critical: ['crit', 'fatal', 'panic', 'alert', 'emerg'],
};

/** A level key with a number value: pino `"level":50`, logfmt `level=40`, `"severity":"17"`. */
const NUMERIC_LEVEL = `(?:level|severity|lvl)\\w*["']?\\s*[:=]\\s*["']?\\d`;
const SYSLOG_PRI = /^(?:\u00ef\u00bb\u00bf)?<(\d{1,3})>/;

/** Builds the raw-line tests that the options allow. */
export function buildPrefilter(options: FilterOptions, filter: RecordFilter): Prefilter {
  const pre: Prefilter = {
    literal: undefined,
    candidates: undefined,
    checks: [],
    invertLiteral: undefined,
  };
  const literals: string[] = [];
  if (options.grep !== undefined) {
    const lit = requiredLiteral(options.grep, '');
    if (lit !== undefined && isSearchable(lit)) {
      if (options.invert) {
        if (!options.ignoreCase && isPureLiteral(options.grep, '')) {
          pre.invertLiteral = Buffer.from(lit);
        }
      } else if (options.ignoreCase) {
        if (/^[\x20-\x7e]+$/.test(lit)) {
          pre.candidates = new RegExp(`${escapeRegex(lit)}|${BACKSLASH}`, 'gi');
        }
      } else literals.push(lit);
    }
  }
  if (filter.where?.literal !== undefined) literals.push(filter.where.literal);
  literals.sort((a, b) => Buffer.byteLength(b) - Buffer.byteLength(a));
  if (literals.length > 0 && pre.candidates === undefined) {
    pre.literal = Buffer.from(literals.shift() as string);
  }
  for (const lit of literals) pre.checks.push(containsCheck(lit));
  const level = levelPrefilter(options.level);
  if (level) {
    if (pre.literal === undefined && pre.candidates === undefined) {
      pre.candidates = level.regex;
      pre.jsonLevel = { min: options.level as Level };
    }
    pre.checks.push(level.check);
  }
  const status = filter.where ? statusConstraint(filter.where.ast) : undefined;
  if (status && pre.literal === undefined && pre.candidates === undefined) {
    pre.candidates = new RegExp(STATUS_FIELD.source, 'g');
    pre.candidateTest = (m) => status(Number(m[1]));
    pre.candidatesFileOnly = true;
  }
  return pre;
}

/**
 * Only the access-log parser sets http.status, from the digits right after the request's
 * closing quote: `"GET / HTTP/1.1" 503 `. So when a query needs the status to satisfy a test,
 * a line can match only if it has a `" DIGITS ` whose number passes.
 */
const STATUS_FIELD = /" (\d{1,9}) /;

/** A test the status must pass for the expression to hold, if the expression implies one. */
export function statusConstraint(expr: Expr): ((status: number) => boolean) | undefined {
  if (expr.kind === 'and') return statusConstraint(expr.left) ?? statusConstraint(expr.right);
  if (expr.kind === 'in' && canonicalPath(expr.path) === 'http.status') {
    const values = expr.values.map((v) => (v.kind === 'number' ? v.value : NaN));
    if (values.some((v) => Number.isNaN(v))) return undefined;
    return (n) => values.includes(n);
  }
  if (expr.kind !== 'compare' || canonicalPath(expr.path) !== 'http.status') return undefined;
  if (expr.value.kind !== 'number') return undefined;
  const x = expr.value.value;
  switch (expr.op) {
    case '=':
      return (n) => n === x;
    case '<':
      return (n) => n < x;
    case '<=':
      return (n) => n <= x;
    case '>':
      return (n) => n > x;
    case '>=':
      return (n) => n >= x;
    default:
      return undefined;
  }
}

function containsCheck(lit: string): LineCheck {
  const l1 = Buffer.from(lit).toString('latin1');
  return (line) => line.includes(l1) || line.includes('\\');
}

/**
 * The level prefilter: a line can reach `min` only when it names a level word at or above it,
 * has a numeric level key, an access-log status in the range, or a syslog PRI that says so.
 * At info and below every line may (no level means info), so there is no prefilter.
 */
export function levelPrefilter(min: Level | undefined) {
  if (min === undefined || LEVEL_RANK[min] <= LEVEL_RANK.info) return undefined;
  const minRank = LEVEL_RANK[min];
  const words: string[] = [];
  for (const [level, list] of Object.entries(LEVEL_WORDS)) {
    if (LEVEL_RANK[level as Level] >= minRank) words.push(...list);
  }
  const statusFirst = minRank <= LEVEL_RANK.warn ? '[45]' : minRank <= LEVEL_RANK.error ? '5' : '';
  const alts = [...words, NUMERIC_LEVEL, BACKSLASH];
  if (statusFirst) alts.push(`"\\s*${statusFirst}\\d\\d(?!\\d)`);
  const body = alts.join('|');
  const any = new RegExp(body, 'i');
  const regex = new RegExp(`${body}|^(?:\u00ef\u00bb\u00bf)?<\\d{1,3}>`, 'gim');
  const check: LineCheck = (line) => {
    if (any.test(line)) return true;
    const pri = SYSLOG_PRI.exec(line);
    return pri !== null && LEVEL_RANK[SYSLOG_SEVERITY_LEVEL[Number(pri[1]) % 8]] >= minRank;
  };
  return { regex, check };
}

function isSearchable(s: string): boolean {
  return s.length > 0 && !/[\u0000-\u001f\u007f\ufffd]/.test(s);
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
