// The second core for the access-log fast path: a worker thread runs AccessBytes over the
// second half of a chunk while the main thread parses the first half, and stops at the first
// line it cannot take. The main thread keeps what the worker did only when the state after
// the first half allows it (shareChunk() in src/cli/parse.ts), so output and statistics stay
// those of one thread reading in order. Bytes go both ways through shared memory that is
// reused for every chunk: fresh Buffers per chunk raised peak RSS by tens of MB.

import { parentPort } from 'node:worker_threads';
import { AccessBytes, newAccessByteFacts } from './access-bytes.js';
import type { RecordSink } from './access-bytes.js';
import { hashBytes } from './stats.js';

/** Memory the main thread and the worker share; each job uses it from offset 0. */
export interface SplitMemory {
  /** The half chunk: complete lines, each ending with `\n`. */
  input: SharedArrayBuffer;
  /** NDJSON records the worker wrote. */
  output: SharedArrayBuffer;
  /** FACT_FIELDS numbers per line for --stats. */
  facts: SharedArrayBuffer;
}

export interface SplitJob {
  id: number;
  /** Sent when it changes only (posting shared memory costs about a millisecond). */
  memory?: SplitMemory;
  /** Bytes of `input` in use. */
  length: number;
  /** NDJSON records (with these source and keepRaw), or statistics facts. */
  stats: boolean;
  source: string | undefined;
  keepRaw: boolean;
  /** A forced access format: no line is left to detection. */
  forced: boolean;
  maxLineBytes: number;
}

/** Numbers per line in the facts memory (see runSplitJob()). */
export const FACT_FIELDS = 9;

export interface SplitResult {
  id: number;
  /** Lines taken from the start of the input, and the bytes they span (newlines included). */
  lines: number;
  consumed: number;
  /** Bytes of `output` written. */
  outputBytes: number;
}

/** A RecordSink over the shared output memory. */
class SharedOutput implements RecordSink {
  pendingBytes = 0;
  constructor(readonly buf: Buffer) {}

  /** Whether `n` more bytes fit. */
  fits(n: number): boolean {
    return this.pendingBytes + n <= this.buf.length;
  }

  reserve(): Buffer {
    return this.buf;
  }

  commit(end: number): void {
    this.pendingBytes = end;
  }
}

const scanners = new Map<string, AccessBytes>();

function scannerFor(source: string | undefined, keepRaw: boolean): AccessBytes {
  const key = JSON.stringify([source ?? null, keepRaw]);
  let a = scanners.get(key);
  if (!a) {
    a = new AccessBytes(source, keepRaw);
    scanners.set(key, a);
  }
  return a;
}

/** Whether detection could give a line starting with `c0` (`c10` at 10) to another parser. */
function detectionMayDiffer(c0: number, c10: number): boolean {
  return c0 === 123 || (c0 >= 48 && c0 <= 57 && c10 === 84);
}

/** The memory of the last job that sent one, as views. */
let memory: { input: Buffer; output: Buffer; facts: Float64Array } | undefined;

export function runSplitJob(job: SplitJob): SplitResult {
  if (job.memory !== undefined) {
    const m = job.memory;
    memory = {
      input: Buffer.from(m.input),
      output: Buffer.from(m.output),
      facts: new Float64Array(m.facts),
    };
  }
  if (memory === undefined) return { id: job.id, lines: 0, consumed: 0, outputBytes: 0 };
  const b = memory.input.subarray(0, job.length);
  const out = new SharedOutput(memory.output);
  const facts = memory.facts;
  const fast = scannerFor(job.source, job.keepRaw);
  const f = newAccessByteFacts();
  let s = 0;
  let lines = 0;
  let at = 0;
  while (s < b.length) {
    const e = fast.scan(b, s);
    if (e < 0 || e - s > job.maxLineBytes) break;
    if (job.stats) {
      if (at + FACT_FIELDS > facts.length) break;
      fast.facts(b, f);
      facts[at++] = f.clientStart;
      facts[at++] = f.clientEnd;
      facts[at++] = f.pathStart;
      facts[at++] = f.pathEnd;
      facts[at++] = f.status;
      facts[at++] = f.combined ? 1 : 0;
      facts[at++] = f.epochMs;
      // The main thread counts; hashing the values here takes that much off it.
      facts[at++] = hashBytes(b, f.clientStart, f.clientEnd);
      facts[at++] = f.pathStart >= 0 ? hashBytes(b, f.pathStart, f.pathEnd) : 0;
    } else {
      if (!job.forced && detectionMayDiffer(b[s], b[s + 10])) break;
      if (!out.fits(fast.recordRoom)) break;
      fast.write(b, out);
    }
    lines++;
    s = e + 1;
  }
  return { id: job.id, lines, consumed: s, outputBytes: out.pendingBytes };
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: SplitJob) => port.postMessage(runSplitJob(job)));
}
