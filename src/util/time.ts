// Parsing of time bounds for --since/--until: an RFC 3339 time, a date, or a time relative to
// now ("15m", "2h ago", "-3d"). Shared by the store inspector and the query engine.

import { ConfigError } from '../errors.js';
import { parseDurationMs } from './units.js';

const RELATIVE = /^\s*-?\s*(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w))\s*(?:ago)?\s*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a time bound as epoch milliseconds. `now` is the reference for relative bounds:
 * "15m" and "15m ago" and "-15m" all mean 15 minutes before `now`; "now" is `now` itself.
 * A date alone ("2026-03-01") is midnight UTC; a time without a zone is refused.
 */
export function parseTimeBound(text: string, now: number): number {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  const rel = RELATIVE.exec(trimmed);
  if (rel) return now - parseDurationMs(rel[1].replace(/\s+/g, ''), 'time bound');
  if (RFC3339.test(trimmed) || DATE_ONLY.test(trimmed)) {
    const iso = DATE_ONLY.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed.replace(' ', 'T');
    const ms = Date.parse(iso);
    if (Number.isFinite(ms)) return ms;
  }
  throw new ConfigError(
    `time bound "${text}" is neither an RFC 3339 time (2026-03-01T08:15:00Z), ` +
      'a date (2026-03-01) nor a relative time (15m, 2h, 3d ago).',
  );
}
