// Counting a literal in the second half of a large file on a second thread, while the main
// thread reads the first half. Used only where order does not matter and every line is decided
// alone: `--grep LITERAL --count` on an access log (EngineOptions.messageLiteral). The worker
// counts literal hits found in a raw access line's request and hands back every other hit line
// (a backslash, not an access line) for the main thread to take the usual way.

import { Worker } from 'node:worker_threads';
import { openBlocks, type ByteRange } from './read.js';
import { RAW_SKIP, scanBlock, type AccessLineHandler } from './scan.js';
import type { Prefilter } from './prefilter.js';

export interface SplitJob {
  path: string;
  range: ByteRange;
  literal: Uint8Array;
  maxLineBytes: number | undefined;
}

export interface SplitResult {
  /** Lines whose request holds the literal. */
  matched: number;
  /** Hit lines the raw reader could not decide, to be handled by the caller. */
  visit: string[];
  bytes: number;
  cutLines: number;
}

/** Hand-back lines beyond this many characters end the split: the caller reads the range. */
const MAX_VISIT_CHARS = 8 * 1024 * 1024;

/** Counts the range; undefined when too many lines need the caller (it reads the range). */
export async function countRange(job: SplitJob): Promise<SplitResult | undefined> {
  const literal = Buffer.from(job.literal);
  const pre: Prefilter = { literal, candidates: undefined, checks: [], invertLiteral: undefined };
  let matched = 0;
  let chars = 0;
  const visit: string[] = [];
  const access: AccessLineHandler = (buf, _s, _e, line) => {
    if (buf.subarray(line.requestStart, line.requestEnd).indexOf(literal) >= 0) matched++;
    return RAW_SKIP;
  };
  const handle = (line: string) => {
    visit.push(line);
    chars += line.length;
    return chars <= MAX_VISIT_CHARS;
  };
  const source = await openBlocks(job.path, job.maxLineBytes, job.range);
  for await (const block of source.blocks()) {
    if (!scanBlock(block.buf, block.end, pre, handle, access)) return undefined;
  }
  return { matched, visit, bytes: source.stats.bytes, cutLines: source.stats.cutLines };
}

/** Runs countRange on a worker thread; undefined when it fails or gives up. */
export function countRangeOnWorker(job: SplitJob): Promise<SplitResult | undefined> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL('./split-worker.js', import.meta.url), { workerData: job });
    } catch {
      resolve(undefined);
      return;
    }
    worker.once('message', (result: SplitResult | undefined) => resolve(result));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
}
