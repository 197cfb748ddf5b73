// Sharing the reading of one large file between two threads: the file is cut into chunks of
// CHUNK_BYTES, each moved to its next line start, and each thread claims the next free chunk
// with an atomic compare-and-swap on a shared array. A thread that starts late or gets less
// CPU (the machine is shared) simply claims fewer chunks, so both finish at about the same
// time; the array also records who read which chunk, so a chunk of a worker that failed or
// gave up is read again by the main thread.

import { readSync } from 'node:fs';
import type { ByteRange } from './read.js';

/** Small enough that the last chunks balance the threads, large enough to cost nothing. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
export const FREE = 0;
export const MAIN = 1;
export const WORKER = 2;

/** Bytes read at a time while looking for the line start after a chunk boundary. */
const PROBE_BYTES = 4096;
const probe = Buffer.allocUnsafe(PROBE_BYTES);

/** The chunk owners of a file of `size` bytes, in memory the worker can share. */
export function chunkOwners(size: number, chunkBytes = CHUNK_BYTES): Int32Array {
  const n = Math.ceil(size / chunkBytes);
  return new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * Claims chunks of a shared owner array for one thread, in file order, or from the end
 * backwards (a worker whose chunks the main thread will print in order reads the file's end
 * first, so the main thread rarely waits for a chunk in progress).
 */
export class ChunkClaims {
  private next: number;

  constructor(
    readonly owners: Int32Array,
    private readonly me: number,
    private readonly fromEnd = false,
  ) {
    this.next = fromEnd ? owners.length - 1 : 0;
  }

  /** The next chunk this thread now owns, or -1 when every chunk is taken. */
  claim(): number {
    const { owners } = this;
    const step = this.fromEnd ? -1 : 1;
    while (this.next >= 0 && this.next < owners.length) {
      const k = this.next;
      this.next += step;
      if (Atomics.compareExchange(owners, k, FREE, this.me) === FREE) return k;
    }
    return -1;
  }
}

/** Takes chunk k for `me` when it is still free. */
export function claimChunk(owners: Int32Array, k: number, me: number): boolean {
  return Atomics.compareExchange(owners, k, FREE, me) === FREE;
}

/**
 * The bytes of chunk k: from the first line start at or after k × chunkBytes to the first
 * line start at or after (k + 1) × chunkBytes. Both threads compute the same bounds, so every
 * line is read exactly once, by the owner of the chunk where it starts (empty when a line
 * longer than a chunk covers it).
 */
export function chunkRange(
  fd: number,
  size: number,
  k: number,
  chunkBytes = CHUNK_BYTES,
): ByteRange {
  return {
    from: lineStartAtOrAfter(fd, size, k * chunkBytes),
    to: lineStartAtOrAfter(fd, size, (k + 1) * chunkBytes),
  };
}

/** The first offset >= at that starts a line (follows a newline), or size. */
function lineStartAtOrAfter(fd: number, size: number, at: number): number {
  if (at <= 0) return 0;
  if (at >= size) return size;
  // A line starts at `at` when the byte before it is a newline: look from there.
  let position = at - 1;
  while (position < size) {
    const n = readSync(fd, probe, 0, PROBE_BYTES, position);
    if (n === 0) break;
    const nl = probe.subarray(0, n).indexOf(10);
    if (nl >= 0) return Math.min(size, position + nl + 1);
    position += n;
  }
  return size;
}
