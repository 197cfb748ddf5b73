// Field paths over a record: "http.status", "service", "fields.user_id", or a bare key such as
// "user_id" that is looked up under `fields` because it is not a record field.

import type { LogRecord } from '../../record/record.js';

/** The top-level keys of a record (SCHEMA.md). */
export const RECORD_KEYS = new Set([
  'timestamp',
  'level',
  'severity',
  'message',
  'host',
  'service',
  'pid',
  'format',
  'source',
  'http',
  'syslog',
  'fields',
  'tags',
  'raw',
  'parse_error',
]);

/**
 * Fields whose text is copied from the line as written (after unescaping), so that a literal
 * found in their value is also found in the raw line. Derived fields (level, severity,
 * timestamp, format, source, numbers) are not: "error" may come from "<11>" or status 503.
 */
export function isVerbatimPath(path: string): boolean {
  const p = canonicalPath(path);
  if (p === 'message' || p === 'host' || p === 'service' || p === 'raw') return true;
  if (p.startsWith('fields.')) return true;
  return (
    /^http\.(client_ip|remote_user|method|path|query|protocol|request|referrer|user_agent)$/.test(
      p,
    ) || /^syslog\.msgid$/.test(p)
  );
}

/** "user_id" → "fields.user_id"; record paths stay as they are. */
export function canonicalPath(path: string): string {
  const first = path.split('.', 1)[0];
  return RECORD_KEYS.has(first) ? path : `fields.${path}`;
}

export type Getter = (rec: LogRecord) => unknown;

/** Builds a fast accessor for a path; missing parts give undefined. */
export function fieldGetter(path: string): Getter {
  const parts = canonicalPath(path).split('.');
  if (parts.length === 1) {
    const [a] = parts;
    return (rec) => (rec as unknown as Record<string, unknown>)[a];
  }
  if (parts.length === 2 && parts[0] !== 'fields') {
    const [a, b] = parts;
    return (rec) => {
      const o = (rec as unknown as Record<string, Record<string, unknown> | undefined>)[a];
      return o === undefined || !Object.hasOwn(o, b) ? undefined : o[b];
    };
  }
  return (rec) => walk(rec, parts, 0);
}

/** Descends object keys; a key that itself contains dots ("log.level") is tried as a whole. */
function walk(value: unknown, parts: string[], i: number): unknown {
  if (i === parts.length) return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  const direct = Object.hasOwn(obj, parts[i]) ? obj[parts[i]] : undefined;
  if (direct !== undefined) {
    const found = walk(direct, parts, i + 1);
    if (found !== undefined) return found;
  }
  for (let j = parts.length; j > i + 1; j--) {
    const key = parts.slice(i, j).join('.');
    if (Object.hasOwn(obj, key)) return walk(obj[key], parts, j);
  }
  return undefined;
}
