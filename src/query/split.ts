// Counting a literal in a large file on two threads: the main thread and a worker claim chunks
// of the file in turn (chunks.ts). Used only where order does not matter and every line is
// decided alone: `--grep LITERAL --count` on an access log (EngineOptions.messageLiteral). The
// worker counts literal hits found in a raw access line's request and hands back every other
// hit line (a backslash, not an access line) for the main thread to take the usual way.

import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { BlockAssembler, rangeBlocks } from './read.js';
import { RAW_SKIP, scanBlock, type AccessLineHandler } from './scan.js';
import type { Prefilter } from './prefilter.js';
import { ChunkClaims, WORKER, chunkRange } from './chunks.js';

/** The count job; the worker loads only what it needs (split-level.ts is the other job). */
export interface SplitJob {
  kind: 'count';
  path: string;
  size: number;
  /** The shared chunk owners (chunks.ts). */
  owners: Int32Array;
  literal: Uint8Array;
  maxLineBytes: number | undefined;
}

export interface SplitResult {
  /** Lines whose request holds the literal, in the chunks of `done`. */
  matched: number;
  /** Hit lines of those chunks that the raw reader could not decide, for the caller. */
  visit: string[];
  bytes: number;
  cutLines: number;
  /** The chunks counted; any other chunk the worker claimed is left to the caller. */
  done: number[];
}

/** Hand-back lines beyond this many characters end the worker's share: the caller goes on. */
const MAX_VISIT_CHARS = 8 * 1024 * 1024;

/** Counts the chunks this thread claims, until none is left or too many lines need the caller. */
export function countChunks(job: SplitJob): SplitResult {
  const literal = Buffer.from(job.literal);
  const pre: Prefilter = { literal, candidates: undefined, checks: [], invertLiteral: undefined };
  const result: SplitResult = { matched: 0, visit: [], bytes: 0, cutLines: 0, done: [] };
  let chars = 0;
  const access: AccessLineHandler = (buf, _s, _e, line) => {
    if (buf.subarray(line.requestStart, line.requestEnd).indexOf(literal) >= 0) result.matched++;
    return RAW_SKIP;
  };
  const handle = (line: string) => {
    result.visit.push(line);
    chars += line.length;
    return chars <= MAX_VISIT_CHARS;
  };
  const claims = new ChunkClaims(job.owners, WORKER);
  const fd = openSync(job.path, 'r');
  try {
    const assembler = new BlockAssembler(job.maxLineBytes);
    for (let k = claims.claim(); k >= 0; k = claims.claim()) {
      const before = { matched: result.matched, visits: result.visit.length };
      const stats = { bytes: assembler.stats.bytes, cutLines: assembler.stats.cutLines };
      let complete = true;
      for (const block of rangeBlocks(fd, assembler, chunkRange(fd, job.size, k))) {
        if (!scanBlock(block.buf, block.end, pre, handle, access)) {
          complete = false;
          break;
        }
      }
      if (!complete) {
        // Too many lines for the caller: this chunk is dropped whole and left to it.
        result.matched = before.matched;
        result.visit.length = before.visits;
        assembler.stats.bytes = stats.bytes;
        assembler.stats.cutLines = stats.cutLines;
        break;
      }
      result.done.push(k);
    }
    result.bytes = assembler.stats.bytes;
    result.cutLines = assembler.stats.cutLines;
    return result;
  } finally {
    closeSync(fd);
  }
}

/** A worker counting chunks; `result` is undefined when it fails. */
export interface ChunkWorker {
  result: Promise<SplitResult | undefined>;
  stop(): Promise<void>;
}

/** Starts countChunks on a worker thread. */
export function countChunksOnWorker(job: SplitJob): ChunkWorker {
  let worker: Worker;
  try {
    worker = new Worker(new URL('./split-worker.js', import.meta.url), { workerData: job });
  } catch {
    return { result: Promise.resolve(undefined), stop: async () => {} };
  }
  const result = new Promise<SplitResult | undefined>((resolve) => {
    worker.once('message', (r: SplitResult | undefined) => resolve(r));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return {
    result,
    stop: async () => {
      await worker.terminate();
    },
  };
}
