// How the collector turns a connection's bytes into records once its framing is known:
// the framer for each built-in framing, and the decoder from a frame to records. Text and
// syslog lines go through the same line parser as `sluice parse`; NDJSON objects that already
// are sluice records pass through unchanged, other objects are normalized as JSON log lines.

import type { BuiltinFraming } from '../framing/detect.js';
import { OctetCountingFramer } from '../framing/octet.js';
import { createLineParser } from '../parse/line-parser.js';
import type { ParseOptions } from '../parse/options.js';
import { decodeJson, normalizeRecord } from '../record/json.js';
import type { JsonValue, LogRecord } from '../record/record.js';
import type { FrameDecoder, StreamFramer } from '../sources/tcp.js';
import { LineFramer } from './line-framer.js';

export function framerFor(framing: BuiltinFraming, maxLineBytes: number): StreamFramer {
  if (framing === 'octet') return new OctetCountingFramer({ maxFrameBytes: maxLineBytes });
  return new LineFramer(maxLineBytes);
}

/** A decoder for one connection; `parse` holds the options of `sluice parse` (timezone...). */
export function decoderFor(
  framing: BuiltinFraming,
  peer: string,
  parse: ParseOptions = {},
): FrameDecoder {
  const opts: ParseOptions = { ...parse, source: peer };
  const lines = createLineParser(opts);
  const asText: FrameDecoder = (frame, out) => lines.push(frame.toString('utf8'), out);
  if (framing !== 'ndjson') return asText;
  return (frame, out) => {
    const text = frame.toString('utf8');
    let value: JsonValue;
    try {
      value = decodeJson(text);
    } catch {
      // Not JSON after all: the line parser keeps it as text with parse_error.
      lines.push(text, out);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      lines.push(text, out);
      return;
    }
    const rec: LogRecord = normalizeRecord(value, opts);
    if (rec.source === undefined) rec.source = peer;
    out.push(rec);
  };
}
