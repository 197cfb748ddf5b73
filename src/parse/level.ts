// Level mapping per SCHEMA.md: syslog severities, error-log words, JSON level strings in any
// case and pino/bunyan numbers all become one of the seven sluice levels.

import type { Level } from '../record/record.js';

const WORDS: Record<string, Level> = {
  trace: 'trace',
  trace1: 'trace',
  trace2: 'trace',
  trace3: 'trace',
  trace4: 'trace',
  trace5: 'trace',
  trace6: 'trace',
  trace7: 'trace',
  trace8: 'trace',
  silly: 'trace',
  finest: 'trace',
  debug: 'debug',
  dbug: 'debug',
  verbose: 'debug',
  fine: 'debug',
  finer: 'debug',
  info: 'info',
  informational: 'info',
  information: 'info',
  inf: 'info',
  http: 'info',
  notice: 'notice',
  warn: 'warn',
  warning: 'warn',
  wrn: 'warn',
  error: 'error',
  err: 'error',
  eror: 'error',
  severe: 'error',
  crit: 'critical',
  critical: 'critical',
  fatal: 'critical',
  panic: 'critical',
  dpanic: 'critical',
  alert: 'critical',
  emerg: 'critical',
  emergency: 'critical',
};

/** The level of a word such as `WARNING`, `err`, `Fatal`; undefined when it is not one. */
export function levelFromWord(word: string): Level | undefined {
  const hit = WORDS[word];
  if (hit !== undefined) return hit;
  return WORDS[word.toLowerCase()];
}

/** Syslog severity code 0-7 to level: emerg, alert, crit → critical … debug → debug. */
export const SYSLOG_SEVERITY_LEVEL: readonly Level[] = [
  'critical',
  'critical',
  'critical',
  'error',
  'warn',
  'notice',
  'info',
  'debug',
];

/** pino/bunyan numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
export function levelFromNumber(n: number): Level | undefined {
  if (!Number.isFinite(n)) return undefined;
  if (n <= 10) return 'trace';
  if (n <= 20) return 'debug';
  if (n <= 30) return 'info';
  if (n <= 40) return 'warn';
  if (n <= 50) return 'error';
  return 'critical';
}

/** The level of a JSON or logfmt value: a word, a pino number, or a numeric string. */
export function levelFromValue(value: unknown): Level | undefined {
  if (typeof value === 'string') {
    const w = levelFromWord(value);
    if (w) return w;
    if (/^\d+$/.test(value)) return levelFromNumber(Number(value));
    return undefined;
  }
  if (typeof value === 'number') return levelFromNumber(value);
  return undefined;
}

/** Access logs: 5xx error, 4xx warn, else info. */
export function levelFromStatus(status: number): Level {
  if (status >= 500 && status <= 599) return 'error';
  if (status >= 400 && status <= 499) return 'warn';
  return 'info';
}
