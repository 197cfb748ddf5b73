// How the collector turns a connection's bytes into records once its framing is known:
// the framer for each built-in framing, and the decoder from a frame to records. Text and
// syslog lines go through the same line parser as `sluice parse`; NDJSON objects that already
// are sluice records pass through unchanged (and their line is stored as sent, see
// passthrough.ts), other objects are normalized as JSON log lines.

import { ProtocolError } from '../errors.js';
import type { BuiltinFraming } from '../framing/detect.js';
import { NewlineFramer } from '../framing/newline.js';
import { OctetCountingFramer } from '../framing/octet.js';
import { createLineParser, type LineParser, type ParseOptions } from '../parse/index.js';
import { decodeJson, normalizeRecord } from '../record/json.js';
import type { Format, JsonValue, LogRecord } from '../record/record.js';
import type { FrameDecoder, StreamFramer } from '../sources/tcp.js';
import { NetLineFramer } from './line-framer.js';
import { isCanonicalRecord, withSource } from './passthrough.js';
import { SyslogFastPath } from './syslog-fast.js';

/**
 * The framer for a connection. On the network a line over maxLineBytes ends the connection
 * (ProtocolError), unlike a file, where the newline framer truncates and carries on. Blank
 * lines (keep-alives, CRLF pairs) carry no record and are skipped.
 */
export function framerFor(framing: BuiltinFraming, maxLineBytes: number): StreamFramer {
  if (framing === 'octet') {
    const octet = new OctetCountingFramer({ maxFrameBytes: maxLineBytes });
    return {
      push: (chunk, onFrame, onBytes) =>
        octet.push(chunk, (f) => {
          if (onBytes) onBytes(f, 0, frameEnd(f));
          else onFrame(frameText(f));
        }),
      end: (onFrame) => octet.end((f) => onFrame(frameText(f))),
    };
  }
  // Syslog and text lines may go to the syslog fast path as bytes.
  if (framing !== 'ndjson') return new NetLineFramer(maxLineBytes);
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
  return frame.toString('utf8', 0, frameEnd(frame));
}

function frameEnd(frame: Buffer): number {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === 0x0a) end--;
  if (end > 0 && frame[end - 1] === 0x0d) end--;
  return end;
}

export interface DecoderOptions {
  /**
   * The sink stores encoded lines (RecordSink.appendEncoded): syslog frames of the common
   * shapes then take the fast path (src/net/syslog-fast.ts), which also gives their lines.
   */
  encodedLines?: boolean;
}

/** A decoder for one connection; `parse` holds the options of `sluice parse` (timezone...). */
export function decoderFor(
  framing: BuiltinFraming,
  peer: string,
  parse: ParseOptions = {},
  options: DecoderOptions = {},
): FrameDecoder {
  const opts: ParseOptions = { ...parse, source: peer };
  const parser = createLineParser(opts);
  if (framing !== 'ndjson') {
    if (options.encodedLines && SyslogFastPath.supports(opts)) return fastDecoder(parser, opts);
    return (frame, out) => parser.push(frame, out);
  }
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

/**
 * Lines of one format prime the general parser the way a run of fast-path lines of that format
 * would have (it tries the previous line's format first); each is read by that format's
 * parser alone.
 */
const SYNC_LINES: Partial<Record<Format, string>> = {
  syslog_rfc3164: '<13>2000-01-01T00:00:00Z h t: m',
  syslog_rfc5424: '<13>1 - h a - - -',
};
/** Formats after which the general parser's previous format is still none or a syslog one. */
const SYSLOG_STATE = new Set<string>(['syslog_rfc3164', 'syslog_rfc5424', 'text']);

/**
 * A syslog/text decoder with the fast path in front of the general parser. The general parser
 * keeps state (the previous line's format is tried first), so the fast path only runs while
 * that state cannot change its answer — every record the parser gave so far was syslog or
 * unparsed text, so its previous format is none or a syslog one, and for `<PRI>` lines those
 * two never both accept a line — and before the parser reads a line after fast-path lines, it
 * is primed as if it had read them.
 */
function fastDecoder(parser: LineParser, opts: ParseOptions): FrameDecoder {
  const fast = new SyslogFastPath(opts);
  let fastOk = true;
  let primeWith: Format | undefined;
  const discard: LogRecord[] = [];
  const general = (frame: string, out: LogRecord[]): void => {
    if (primeWith !== undefined) {
      const line = SYNC_LINES[primeWith];
      primeWith = undefined;
      if (line !== undefined) parser.push(line, discard);
      discard.length = 0;
    }
    const n = out.length;
    parser.push(frame, out);
    // A syslog record came from the syslog parsers (the previous format is now theirs); an
    // unparsed line, or a container partial held, leaves the previous format as it was.
    for (let i = n; i < out.length && fastOk; i++) fastOk = SYSLOG_STATE.has(out[i].format);
  };
  const decoder: FrameDecoder = (frame, out) => general(frame, out);
  decoder.bytes = (buf, start, end, out, lines) => {
    if (fastOk) {
      const format = fast.line(buf, start, end, out, lines);
      if (format !== undefined) {
        primeWith = format;
        return;
      }
    }
    general(buf.toString('utf8', start, end), out);
  };
  return decoder;
}
