// How the collector turns a connection's bytes into records once its framing is known:
// the framer for each built-in framing, and the decoder from a frame to records. Text and
// syslog lines go through the same line parser as `sluice parse`; NDJSON objects that already
// are sluice records pass through unchanged (and their line is stored as sent, see
// passthrough.ts), other objects are normalized as JSON log lines.

import { ProtocolError } from '../errors.js';
import type { BuiltinFraming } from '../framing/detect.js';
import { NewlineFramer } from '../framing/newline.js';
import { OctetCountingFramer } from '../framing/octet.js';
import { createLineParser, type ParseOptions } from '../parse/index.js';
import { decodeJson, normalizeRecord } from '../record/json.js';
import type { JsonValue, LogRecord } from '../record/record.js';
import type { FrameDecoder, StreamFramer } from '../sources/tcp.js';
import { isCanonicalRecord, withSource } from './passthrough.js';

/**
 * The framer for a connection. On the network a line over maxLineBytes ends the connection
 * (ProtocolError), unlike a file, where the newline framer truncates and carries on. Blank
 * lines (keep-alives, CRLF pairs) carry no record and are skipped.
 */
export function framerFor(framing: BuiltinFraming, maxLineBytes: number): StreamFramer {
  if (framing === 'octet') {
    const octet = new OctetCountingFramer({ maxFrameBytes: maxLineBytes });
    return {
      push: (chunk, onFrame) => octet.push(chunk, (f) => onFrame(frameText(f))),
      end: (onFrame) => octet.end((f) => onFrame(frameText(f))),
    };
  }
  const lines = new NewlineFramer({ maxLineBytes });
  const sink = (onFrame: (frame: string) => void) => (line: string, truncated: boolean) => {
    if (truncated) throw new ProtocolError(`line longer than the ${maxLineBytes}-byte limit`);
    if (line.length > 0) onFrame(line);
  };
  return {
    push: (chunk, onFrame) => void lines.push(chunk, sink(onFrame)),
    end: (onFrame) => void lines.end(sink(onFrame)),
  };
}

/**
 * An octet-counted frame as text, less one trailing LF (or CRLF): rsyslog's forwarding
 * templates end every counted message with one. Newlines inside the message are kept.
 */
function frameText(frame: Buffer): string {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === 0x0a) end--;
  if (end > 0 && frame[end - 1] === 0x0d) end--;
  return frame.toString('utf8', 0, end);
}

/** A decoder for one connection; `parse` holds the options of `sluice parse` (timezone...). */
export function decoderFor(
  framing: BuiltinFraming,
  peer: string,
  parse: ParseOptions = {},
): FrameDecoder {
  const opts: ParseOptions = { ...parse, source: peer };
  const parser = createLineParser(opts);
  const asText: FrameDecoder = (frame, out) => parser.push(frame, out);
  if (framing !== 'ndjson') return asText;
  const sourceJson = JSON.stringify(peer);
  return (frame, out, lines) => {
    let value: JsonValue;
    try {
      value = decodeJson(frame);
    } catch {
      // Not JSON after all: the line parser keeps it as text with parse_error.
      parser.push(frame, out);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      parser.push(frame, out);
      return;
    }
    // Already a record: stored as the client wrote it (plus its source), not encoded again.
    if (lines !== undefined && isCanonicalRecord(value)) {
      const hasSource = value.source !== undefined;
      if (!hasSource) value.source = peer;
      lines[out.length] = hasSource ? frame : withSource(frame, sourceJson);
      out.push(value as unknown as LogRecord);
      return;
    }
    const rec: LogRecord = normalizeRecord(value, opts);
    if (rec.source === undefined) rec.source = peer;
    out.push(rec);
  };
}
