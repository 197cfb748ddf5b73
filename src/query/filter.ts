// The record filter of a query: --level, --since/--until, --grep (with -i, -v) and --where,
// combined into one predicate over parsed records. The raw-line prefilters that run before
// parsing are derived from the same options in prefilter.ts.

import { LEVEL_RANK, type Level, type LogRecord } from '../record/record.js';
import { compileWhere, exprPaths, type CompiledWhere, type Predicate } from './expr/index.js';
import { compileUserRegex } from './regex.js';

export interface FilterOptions {
  /** Keep records at this level and above. */
  level?: Level;
  /** Keep records at or after this time (epoch ms). */
  sinceMs?: number;
  /** Keep records before this time (epoch ms). */
  untilMs?: number;
  /** Regex searched in the message. */
  grep?: string;
  /** --grep ignores case. */
  ignoreCase?: boolean;
  /** --grep keeps records whose message does NOT match. */
  invert?: boolean;
  /** A --where expression. */
  where?: string;
}

export interface RecordFilter {
  predicate: Predicate;
  grep: RegExp | undefined;
  where: CompiledWhere | undefined;
  /** True when the filter keeps every record. */
  all: boolean;
  /** True when --grep is the only filter (so a -v literal test alone can decide). */
  onlyGrep: boolean;
  /** The record paths the filter reads. */
  paths: Set<string>;
}

/** Builds the predicate; throws ConfigError or ExpressionError for unusable options. */
export function buildRecordFilter(options: FilterOptions): RecordFilter {
  const tests: Predicate[] = [];
  if (options.level !== undefined && options.level !== 'trace') {
    const min = LEVEL_RANK[options.level];
    tests.push((rec) => LEVEL_RANK[rec.level] >= min);
  }
  const since = options.sinceMs;
  const until = options.untilMs;
  if (since !== undefined || until !== undefined) {
    // Compared as strings: record timestamps are UTC with exactly three fractional digits.
    const lo = since === undefined ? '' : new Date(since).toISOString();
    const hi = until === undefined ? '\uffff' : new Date(until).toISOString();
    tests.push((rec) => rec.timestamp >= lo && rec.timestamp < hi);
  }
  let grep: RegExp | undefined;
  if (options.grep !== undefined) {
    const re = compileUserRegex(options.grep, options.ignoreCase ? 'i' : '', '--grep');
    grep = re;
    tests.push(options.invert ? (rec) => !re.test(rec.message) : (rec) => re.test(rec.message));
  }
  let where: CompiledWhere | undefined;
  if (options.where !== undefined) {
    where = compileWhere(options.where);
    tests.push(where.predicate);
  }
  const onlyGrep = grep !== undefined && tests.length === 1;
  const paths = where ? exprPaths(where.ast) : new Set<string>();
  if (options.level !== undefined) paths.add('level');
  if (since !== undefined || until !== undefined) paths.add('timestamp');
  if (grep !== undefined) paths.add('message');
  return { predicate: combine(tests), grep, where, all: tests.length === 0, onlyGrep, paths };
}

function combine(tests: Predicate[]): Predicate {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  if (tests.length === 2) {
    const [a, b] = tests;
    return (rec: LogRecord) => a(rec) && b(rec);
  }
  return (rec: LogRecord) => {
    for (const t of tests) if (!t(rec)) return false;
    return true;
  };
}
