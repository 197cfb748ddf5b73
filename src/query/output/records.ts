// The record outputs of `sluice query`: aligned text, the same with colours, normalized JSON
// records, and the original lines. Text and colour output escape control characters.

import pc from 'picocolors';
import type { JsonValue, Level, LogRecord } from '../../record/record.js';
import { encodeRecord, encodeValue } from '../../record/json.js';
import type { Sink } from '../engine.js';
import { fieldGetter } from '../expr/index.js';
import { escapeControl, escapeJsonText } from './escape.js';
import { OutputWriter } from './writer.js';

export type OutputFormat = 'text' | 'color' | 'json' | 'raw';

export interface RecordOutputOptions {
  format: OutputFormat;
  /** Field paths to print instead of the default columns. */
  fields?: string[];
  /** Escape control characters in raw output too (on when stdout is a terminal). */
  escapeRaw?: boolean;
  writer?: OutputWriter;
}

type Colors = ReturnType<typeof pc.createColors>;

const SOURCE_MIN_WIDTH = 8;
const SOURCE_MAX_WIDTH = 24;

/** A sink that prints each matching record in the chosen format. */
export function recordSink(options: RecordOutputOptions): Sink {
  const writer = options.writer ?? new OutputWriter();
  const format = formatter(options);
  const needsRecord = options.format !== 'raw' || options.fields !== undefined;
  return {
    needsRecord,
    write: (rec, line) => writer.write(format(rec, line) + '\n'),
    drain: () => writer.drain(),
    end: () => writer.end(),
  };
}

type Format = (rec: LogRecord | undefined, line: string | undefined) => string;

function formatter(options: RecordOutputOptions): Format {
  const colors = pc.createColors(options.format === 'color');
  if (options.fields !== undefined) return fieldsFormatter(options.fields, options.format, colors);
  switch (options.format) {
    case 'json':
      return (rec) => escapeJsonText(encodeRecord(rec as LogRecord));
    case 'raw': {
      const esc = options.escapeRaw ? escapeControl : (s: string) => s;
      return (rec, line) => esc(line ?? rec?.raw ?? (rec ? encodeRecord(rec) : ''));
    }
    default:
      return textFormatter(colors);
  }
}

const LEVEL_LABEL: Record<Level, string> = {
  trace: 'TRACE   ',
  debug: 'DEBUG   ',
  info: 'INFO    ',
  notice: 'NOTICE  ',
  warn: 'WARN    ',
  error: 'ERROR   ',
  critical: 'CRITICAL',
};

function levelPainter(c: Colors): Record<Level, (s: string) => string> {
  return {
    trace: c.gray,
    debug: c.gray,
    info: c.green,
    notice: c.cyan,
    warn: c.yellow,
    error: c.red,
    critical: (s) => c.bold(c.red(s)),
  };
}

/** time  LEVEL  service-or-host  message; the middle column widens to the widest seen. */
function textFormatter(c: Colors): Format {
  const paint = levelPainter(c);
  let width = SOURCE_MIN_WIDTH;
  return (r) => {
    const rec = r as LogRecord;
    let who = escapeControl(rec.service ?? rec.host ?? rec.http?.client_ip ?? '-');
    if (who.length > SOURCE_MAX_WIDTH) who = who.slice(0, SOURCE_MAX_WIDTH - 1) + '…';
    if (who.length > width) width = who.length;
    const status = rec.http?.status !== undefined ? `${rec.http.status} ` : '';
    const message = escapeControl(status + rec.message);
    return (
      c.dim(rec.timestamp) +
      ' ' +
      paint[rec.level](LEVEL_LABEL[rec.level]) +
      ' ' +
      c.cyan(who.padEnd(width)) +
      ' ' +
      message
    );
  };
}

/** --fields: the chosen paths, tab-separated in text, as one flat object in JSON. */
function fieldsFormatter(paths: string[], format: OutputFormat, c: Colors): Format {
  const getters = paths.map((p) => fieldGetter(p));
  if (format === 'json') {
    const keys = paths.map((p) => JSON.stringify(p) + ':');
    return (rec) => {
      const parts: string[] = [];
      getters.forEach((get, i) => {
        const v = get(rec as LogRecord);
        if (v !== undefined) parts.push(keys[i] + encodeValue(v as JsonValue));
      });
      return escapeJsonText('{' + parts.join(',') + '}');
    };
  }
  return (rec) =>
    getters
      .map((get, i) => {
        const text = escapeControl(valueText(get(rec as LogRecord)));
        return paths[i] === 'level' && rec ? levelPainter(c)[rec.level](text) : text;
      })
      .join('\t');
}

function valueText(v: unknown): string {
  if (v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) return encodeValue(v as JsonValue);
  return String(v);
}
