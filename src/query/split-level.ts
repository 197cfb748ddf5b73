// Printing the matches of --level in order while a worker picks the candidate lines of part of
// a large file (chunks.ts): the worker claims chunks from the file's end backwards and posts
// the candidate lines of each, found with the same prefilter as the main thread's (built from
// the same options); the main thread prints every chunk in file order (engine.ts).

import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { BlockAssembler, rangeBlocks } from './read.js';
import { scanBlock } from './scan.js';
import { buildPrefilter } from './prefilter.js';
import { ChunkClaims, WORKER, chunkRange } from './chunks.js';
import { buildRecordFilter } from './filter.js';
import type { Level } from '../record/record.js';

/**
 * A --level query whose matches are printed in order: the worker picks the candidate lines of
 * the chunks it claims (from the file's end backwards) with the same prefilter as the main
 * thread, which parses and prints them when it reaches those chunks.
 */
export interface LevelJob {
  kind: 'level';
  path: string;
  size: number;
  owners: Int32Array;
  level: Level;
  maxLineBytes: number | undefined;
}

/** The candidate lines of one chunk, or the end of the worker's share (`k` = -1). */
export interface ChunkLines {
  k: number;
  lines: string[];
  bytes: number;
  cutLines: number;
}

/** Candidate lines held for the main thread beyond this many characters end the share. */
const MAX_HELD_CHARS = 16 * 1024 * 1024;

/** Posts the candidate lines of each chunk it claims, then a last message with k = -1. */
export function levelChunks(job: LevelJob, post: (chunk: ChunkLines) => void): void {
  // The prefilter the main thread built from the same options (cli/query.ts).
  const options = { level: job.level };
  const pre = buildPrefilter(options, buildRecordFilter(options));
  const claims = new ChunkClaims(job.owners, WORKER, true);
  const fd = openSync(job.path, 'r');
  let held = 0;
  try {
    const assembler = new BlockAssembler(job.maxLineBytes);
    for (let k = claims.claim(); k >= 0; k = claims.claim()) {
      const lines: string[] = [];
      const handle = (line: string) => {
        lines.push(line);
        held += line.length;
        return true;
      };
      const before = { bytes: assembler.stats.bytes, cutLines: assembler.stats.cutLines };
      for (const block of rangeBlocks(fd, assembler, chunkRange(fd, job.size, k))) {
        scanBlock(block.buf, block.end, pre, handle);
      }
      const bytes = assembler.stats.bytes - before.bytes;
      post({ k, lines, bytes, cutLines: assembler.stats.cutLines - before.cutLines });
      if (held > MAX_HELD_CHARS) break;
    }
  } finally {
    closeSync(fd);
  }
  post({ k: -1, lines: [], bytes: 0, cutLines: 0 });
}

/** A worker picking candidate lines; chunk(k) is undefined when it did not deliver chunk k. */
export interface LevelWorker {
  chunk(k: number): Promise<ChunkLines | undefined>;
  stop(): Promise<void>;
}

/** Starts levelChunks on a worker thread. */
export function levelChunksOnWorker(job: LevelJob): LevelWorker {
  const delivered = new Map<number, ChunkLines>();
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let worker: Worker | undefined;
  try {
    worker = new Worker(new URL('./split-worker.js', import.meta.url), { workerData: job });
    worker.on('message', (c: ChunkLines) => {
      if (c.k < 0) ended = true;
      else delivered.set(c.k, c);
      notify();
    });
    const end = () => {
      ended = true;
      notify();
    };
    worker.once('error', end);
    worker.once('exit', end);
  } catch {
    ended = true;
  }
  return {
    async chunk(k) {
      for (;;) {
        const c = delivered.get(k);
        if (c !== undefined) {
          delivered.delete(k);
          return c;
        }
        if (ended) return undefined;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    stop: async () => {
      await worker?.terminate();
    },
  };
}
