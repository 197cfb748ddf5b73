// The normalized record: the one shape every stage of sluice reads and writes.
// The contract is ../shared/SCHEMA.md; field names and rules here follow it to the letter.

export const LEVELS = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

/** OpenTelemetry severity numbers, per SCHEMA.md. */
export const SEVERITY: Readonly<Record<Level, number>> = {
  trace: 1,
  debug: 5,
  info: 9,
  notice: 10,
  warn: 13,
  error: 17,
  critical: 21,
};

/** Rank of a level, 0 (trace) to 6 (critical), for "this level and above" filters. */
export const LEVEL_RANK: Readonly<Record<Level, number>> = {
  trace: 0,
  debug: 1,
  info: 2,
  notice: 3,
  warn: 4,
  error: 5,
  critical: 6,
};

export const FORMATS = [
  'apache_common',
  'apache_combined',
  'apache_error',
  'nginx_error',
  'syslog_rfc3164',
  'syslog_rfc5424',
  'json',
  'logfmt',
  'text',
] as const;
export type Format = (typeof FORMATS)[number];

/**
 * A JSON value as sluice keeps it. Integers beyond 2^53 are `bigint` so that every digit
 * survives; src/record/json.ts reads and writes them.
 */
export type JsonValue =
  string | number | bigint | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface HttpFields {
  client_ip?: string;
  remote_user?: string;
  method?: string;
  path?: string;
  query?: string;
  protocol?: string;
  request?: string;
  status?: number;
  bytes?: number;
  referrer?: string;
  user_agent?: string;
}

export interface SyslogFields {
  facility?: string;
  facility_code?: number;
  severity_code?: number;
  msgid?: string;
  structured_data?: Record<string, Record<string, string>>;
}

export interface LogRecord {
  timestamp: string;
  level: Level;
  severity: number;
  message: string;
  host?: string;
  service?: string;
  pid?: number;
  format: Format;
  source?: string;
  http?: HttpFields;
  syslog?: SyslogFields;
  fields?: Record<string, JsonValue>;
  tags?: string[];
  raw?: string;
  parse_error?: string;
}

export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SEVERITY, value);
}

/** Formats epoch milliseconds as SCHEMA.md wants: UTC, exactly three fractional digits. */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
