// JSON lines from the common loggers (pino, bunyan, winston, logrus, zap, structlog, Python
// json loggers, plain `{"msg": ...}`): well-known keys become record fields, every other key
// goes under `fields` with its nested value kept. Docker json-file lines are told apart here
// and joined/unwrapped by the line parser.

import type { JsonValue, Level, LogRecord } from '../record/record.js';
import type { ParseContext } from './context.js';
import { decodeJson } from '../record/json.js';
import { newRecord } from './build.js';
import { levelFromValue, levelFromWord } from './level.js';
import { timeValueToEpochMs } from './time.js';

const MESSAGE_KEYS = ['msg', 'message', '@message', 'MESSAGE', 'event', 'log', 'text'];
const LEVEL_KEYS = ['level', 'severity', 'lvl', 'levelname', 'log.level', 'loglevel'];
const TIME_KEYS = ['time', 'timestamp', '@timestamp', 'ts', 'datetime', 'asctime', 'date', 't'];
const HOST_KEYS = ['hostname', 'host', 'host.name'];
const SERVICE_KEYS = ['service', 'service.name', 'name', 'app', 'application'];

/** A level value; also `DEBUG2`-style numbered words. */
function levelOf(v: JsonValue): Level | undefined {
  const l = levelFromValue(v);
  if (l || typeof v !== 'string') return l;
  return levelFromWord(v.replace(/\d+$/, ''));
}

function firstString(obj: Record<string, JsonValue>, keys: string[], used: Set<string>) {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string' && v.length > 0) {
      used.add(k);
      return v;
    }
  }
  return undefined;
}

/** The ECS-style `{"log": {"level": "info"}}` nesting. */
function nestedLogLevel(obj: Record<string, JsonValue>): JsonValue | undefined {
  const log = obj.log;
  if (log && typeof log === 'object' && !Array.isArray(log)) return log.level;
  return undefined;
}

/** Reads one JSON object as a record; `refMs` is the time given when it carries none. */
export function recordFromObject(
  obj: Record<string, JsonValue>,
  ctx: ParseContext,
  refMs: number,
): LogRecord {
  const used = new Set<string>();
  const message = firstString(obj, MESSAGE_KEYS, used) ?? '';
  let level: Level | undefined;
  for (const k of LEVEL_KEYS) {
    const v = obj[k];
    if (v === undefined) continue;
    level = levelOf(v);
    if (level) used.add(k);
    break;
  }
  if (!level && !used.has('log')) {
    const nested = nestedLogLevel(obj);
    if (nested !== undefined) level = levelOf(nested);
  }
  let epochMs = NaN;
  for (const k of TIME_KEYS) {
    const v = obj[k];
    if (v === undefined) continue;
    epochMs = timeValueToEpochMs(v, ctx.zone);
    if (!Number.isNaN(epochMs)) {
      used.add(k);
      break;
    }
  }
  const rec = newRecord(epochMs, refMs, level ?? 'info', message, 'json');
  const host = firstString(obj, HOST_KEYS, used);
  if (host !== undefined) rec.host = host;
  const service = firstString(obj, SERVICE_KEYS, used);
  if (service !== undefined) rec.service = service;
  if (typeof obj.pid === 'number' && Number.isInteger(obj.pid)) {
    rec.pid = obj.pid;
    used.add('pid');
  }
  let fields: Record<string, JsonValue> | undefined;
  for (const k in obj) {
    const v = obj[k];
    if (used.has(k) || v === null || v === undefined) continue;
    (fields ??= {})[k] = v;
  }
  if (fields) rec.fields = fields;
  return rec;
}

/** The JSON object on a line, or undefined when the line is not one. */
export function readJsonObject(line: string): Record<string, JsonValue> | undefined {
  let i = 0;
  while (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9) i++;
  if (line.charCodeAt(i) !== 123) return undefined;
  let e = line.length - 1;
  while (e > i && (line.charCodeAt(e) === 32 || line.charCodeAt(e) === 9)) e--;
  if (line.charCodeAt(e) !== 125) return undefined;
  try {
    const v = decodeJson(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface DockerLine {
  log: string;
  stream?: string;
  time?: string;
}

/** A Docker json-file line: `log` (string), `stream`, `time`, optional `attrs`, nothing else. */
export function asDockerLine(obj: Record<string, JsonValue>): DockerLine | undefined {
  if (typeof obj.log !== 'string') return undefined;
  let n = 0;
  for (const k in obj) {
    n++;
    if (k !== 'log' && k !== 'stream' && k !== 'time' && k !== 'attrs') return undefined;
  }
  if (n < 2 || (obj.stream !== undefined && typeof obj.stream !== 'string')) return undefined;
  if (typeof obj.time !== 'string' && obj.stream === undefined) return undefined;
  return {
    log: obj.log,
    stream: obj.stream as string | undefined,
    time: typeof obj.time === 'string' ? obj.time : undefined,
  };
}

export function parseJson(line: string, ctx: ParseContext, refMs: number): LogRecord | undefined {
  const obj = readJsonObject(line);
  return obj ? recordFromObject(obj, ctx, refMs) : undefined;
}
