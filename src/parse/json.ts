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

/** The first key of `keys` holding a non-empty string. */
function firstStringKey(obj: Record<string, JsonValue>, keys: string[]): string | undefined {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string' && v.length > 0) return k;
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
  // The keys taken into top-level fields; plain variables, not a Set: this runs per line.
  const msgKey = firstStringKey(obj, MESSAGE_KEYS);
  let levelKey: string | undefined;
  let level: Level | undefined;
  for (const k of LEVEL_KEYS) {
    const v = obj[k];
    if (v === undefined) continue;
    level = levelOf(v);
    if (level) levelKey = k;
    break;
  }
  if (!level && msgKey !== 'log') {
    const nested = nestedLogLevel(obj);
    if (nested !== undefined) level = levelOf(nested);
  }
  let timeKey: string | undefined;
  let epochMs = NaN;
  for (const k of TIME_KEYS) {
    const v = obj[k];
    if (v === undefined) continue;
    epochMs = timeValueToEpochMs(v, ctx.zone);
    if (!Number.isNaN(epochMs)) {
      timeKey = k;
      break;
    }
  }
  const message = msgKey !== undefined ? (obj[msgKey] as string) : '';
  const rec = newRecord(epochMs, refMs, level ?? 'info', message, 'json');
  const hostKey = firstStringKey(obj, HOST_KEYS);
  if (hostKey !== undefined) rec.host = obj[hostKey] as string;
  const serviceKey = firstStringKey(obj, SERVICE_KEYS);
  if (serviceKey !== undefined) rec.service = obj[serviceKey] as string;
  const pid = obj.pid;
  const pidUsed = typeof pid === 'number' && Number.isInteger(pid);
  if (pidUsed) rec.pid = pid;
  let fields: Record<string, JsonValue> | undefined;
  for (const k in obj) {
    const v = obj[k];
    if (v === null || v === undefined) continue;
    if (k === msgKey || k === levelKey || k === timeKey || k === hostKey || k === serviceKey) {
      continue;
    }
    if (pidUsed && k === 'pid') continue;
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
