// The sink of --count: counts matches and prints the number at the end. Apart from the record
// outputs (records.ts), so that a count loads neither the colours nor the JSON encoder.

import type { Sink } from '../engine.js';
import { OutputWriter } from './writer.js';

/** A sink that only counts (--count); prints the number at the end. */
export function countSink(writer = new OutputWriter()): Sink & { count: number } {
  const sink = {
    needsRecord: false,
    needsLine: false,
    count: 0,
    write: () => {
      sink.count++;
    },
    drain: async () => {},
    end: async () => {
      writer.write(`${sink.count}\n`);
      await writer.end();
    },
  };
  return sink;
}
