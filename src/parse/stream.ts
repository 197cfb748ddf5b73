// The parsers as a Node stream: bytes in (a file, a socket, stdin), records out. Framing,
// optional multiline joining and line parsing in one object-mode Transform, for programs that
// pipe rather than push lines.

import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { LogRecord } from '../record/record.js';
import type { ParseOptions } from './options.js';
import type { MultilineOptions } from './multiline.js';
import { createMultiline } from './multiline.js';
import { createLineParser, markTruncated } from './line-parser.js';
import { NewlineFramer } from '../framing/newline.js';

export interface ParseStreamOptions extends ParseOptions {
  /** Join multi-line events before parsing. */
  multiline?: MultilineOptions;
}

/** A Transform taking Buffer chunks and emitting one LogRecord object per event. */
export function createParseStream(opts: ParseStreamOptions = {}): Transform {
  const parser = createLineParser(opts);
  const framer = new NewlineFramer({ maxLineBytes: opts.maxLineBytes });
  const joiner = opts.multiline ? createMultiline(opts.multiline) : undefined;
  const recs: LogRecord[] = [];
  const parseEvent = (text: string, truncated: boolean) => {
    const from = recs.length;
    parser.push(text, recs);
    if (truncated) for (let i = from; i < recs.length; i++) markTruncated(recs[i]);
  };
  const onLine = (line: string, truncated: boolean) => {
    if (!joiner) return parseEvent(line, truncated);
    for (const ev of joiner.push(line)) parseEvent(ev, false);
  };
  const emit = (stream: Transform) => {
    for (const r of recs) stream.push(r);
    recs.length = 0;
  };
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      framer.push(chunk, onLine);
      emit(this);
      done();
    },
    flush(done: TransformCallback) {
      framer.end(onLine);
      if (joiner) for (const ev of joiner.flush()) parseEvent(ev, false);
      parser.flush(recs);
      emit(this);
      done();
    },
  });
}
