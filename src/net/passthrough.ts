// NDJSON pass-through: a line a client sent that already is a sluice record, field for field,
// can be stored as the client wrote it instead of being encoded again. This decides whether a
// decoded JSON object is such a record: every key one the schema (SCHEMA.md) defines, at
// every level encodeRecord writes, each with its type, so that storing the original line and
// storing encodeRecord(obj) read back as the same record. Anything else is re-encoded.

import { FORMATS, SEVERITY, isLevel, type JsonValue } from '../record/record.js';

const TIMESTAMP_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const FORMAT_SET = new Set<string>(FORMATS);

type Check = (v: JsonValue) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number';
const isObject = (v: JsonValue): v is { [key: string]: JsonValue } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const HTTP: Record<string, Check> = {
  client_ip: isString,
  remote_user: isString,
  method: isString,
  path: isString,
  query: isString,
  protocol: isString,
  request: isString,
  status: isNumber,
  bytes: isNumber,
  referrer: isString,
  user_agent: isString,
};

const SYSLOG: Record<string, Check> = {
  facility: isString,
  facility_code: isNumber,
  severity_code: isNumber,
  msgid: isString,
  structured_data: (v) =>
    isObject(v) &&
    Object.values(v).every((params) => isObject(params) && Object.values(params).every(isString)),
};

const TOP: Record<string, Check> = {
  timestamp: (v) => typeof v === 'string' && TIMESTAMP_RE.test(v),
  level: isLevel as Check,
  severity: isNumber,
  message: isString,
  host: isString,
  service: isString,
  pid: isNumber,
  format: (v) => typeof v === 'string' && FORMAT_SET.has(v),
  source: isString,
  http: (v) => isObject(v) && keysMatch(v, HTTP),
  syslog: (v) => isObject(v) && keysMatch(v, SYSLOG),
  fields: isObject,
  tags: (v) => Array.isArray(v) && v.every(isString),
  raw: isString,
  parse_error: isString,
};

function keysMatch(obj: { [key: string]: JsonValue }, checks: Record<string, Check>): boolean {
  for (const k in obj) {
    const check = checks[k];
    if (check === undefined || !check(obj[k])) return false;
  }
  return true;
}

/** True when `obj` is exactly a record: stored as its own line, it reads back unchanged. */
export function isCanonicalRecord(obj: { [key: string]: JsonValue }): boolean {
  const { level, severity, message } = obj;
  return (
    isLevel(level) &&
    severity === SEVERITY[level] &&
    typeof message === 'string' &&
    obj.timestamp !== undefined &&
    obj.format !== undefined &&
    keysMatch(obj, TOP)
  );
}

/**
 * The line with `"source":...` added as its last member (the object's closing brace is its
 * last non-space character, as JSON.parse accepted it). `sourceJson` is already a JSON string.
 */
export function withSource(line: string, sourceJson: string): string {
  const close = line.lastIndexOf('}');
  return line.slice(0, close) + ',"source":' + sourceJson + line.slice(close);
}
