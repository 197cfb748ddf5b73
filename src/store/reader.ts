// Reading a store: segments oldest first, skipping those outside --since/--until by their
// index and seeking inside them by its sparse entries; blocks outside the range are skipped
// by their header without decoding. Safe while a writer is active; `follow` keeps reading new
// records across rotation until close().

import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { StoreError } from '../errors.js';
import type { LogRecord } from '../record/record.js';
import { BLOCK_FLAG_SORTED, FILE_HEADER_BYTES, type DecodedBlock } from './format.js';
import { bufferLineTime, indexLines, mergeByTime, type Piece, type PieceSource } from './merge.js';
import { blockPayload, findNextBlock, scanBlocks } from './scan.js';
import type { SegmentIndex } from './segment-index.js';
import { listSegments, type SegmentInfo } from './segments.js';

export interface StoreReaderOptions {
  /** Only records at or after this time (epoch ms). */
  since?: number;
  /** Only records at or before this time (epoch ms). */
  until?: number;
  /** Keep reading new records as they are appended, across rotation, until close(). */
  follow?: boolean;
  /** How often follow mode looks for new data (default 200 ms). */
  pollIntervalMs?: number;
  /**
   * 'time' (default): records merged by timestamp across segments and sorted within a bounded
   * window (docs/store.md); 'storage': as stored, segment by segment, block by block.
   */
  order?: 'time' | 'storage';
}

const SEGMENT_NAME = /^(\d{12})\.(seg|sgz|idx)$/;

export class StoreReader implements AsyncIterable<LogRecord[]> {
  private stopped = false;
  private wake?: () => void;
  private readonly since: number;
  private readonly until: number;

  constructor(
    readonly dir: string,
    private readonly opts: StoreReaderOptions = {},
  ) {
    this.since = opts.since ?? -Infinity;
    this.until = opts.until ?? Infinity;
  }

  /** Ends a follow: the iteration finishes after the data it has. */
  close(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Batches of decoded records (one batch per stored block). */
  async *[Symbol.asyncIterator](): AsyncGenerator<LogRecord[]> {
    // Loaded here: `store cat` reads raw() and should not load the JSON decoder's imports.
    const { decodeJson } = await import('../record/json.js');
    for await (const chunk of this.raw()) {
      const text = chunk.toString('utf8');
      const records: LogRecord[] = [];
      let from = 0;
      while (from < text.length) {
        const nl = text.indexOf('\n', from);
        const end = nl < 0 ? text.length : nl;
        if (end > from) records.push(decodeJson(text.slice(from, end)) as unknown as LogRecord);
        from = end + 1;
      }
      if (records.length > 0) yield records;
    }
  }

  /** The same records as NDJSON: Buffers of whole lines, each line ending in "\n". */
  async *raw(): AsyncGenerator<Buffer> {
    const segments = await listSegments(this.dir);
    let lastSeq = 0;
    const tail = this.opts.follow ? segments.pop() : undefined;
    if (this.opts.order === 'storage') {
      for (const s of segments) {
        if (this.stopped) return;
        for await (const piece of this.readSegment(s)) yield piece.payload;
      }
    } else {
      for await (const chunk of mergeByTime(this.sources(segments))) {
        if (this.stopped) return;
        yield chunk;
      }
    }
    if (segments.length > 0) lastSeq = segments[segments.length - 1].seq;
    if (!this.opts.follow) return;
    yield* this.followFrom(tail ? tail.seq - 1 : lastSeq);
  }

  /** One merge source per segment that may hold records in range, opened when needed. */
  private sources(segments: SegmentInfo[]): PieceSource[] {
    const out: PieceSource[] = [];
    for (const s of segments) {
      if (s.index && !this.overlaps(s.index.firstTs, s.index.lastTs)) continue;
      const firstTs = s.index?.firstTs ?? -Infinity;
      out.push({
        firstTs: Math.max(firstTs, this.since),
        open: () => this.readSegment(s),
      });
    }
    return out;
  }

  // --- one closed (or active, read once) segment -------------------------------------------

  private async *readSegment(s: SegmentInfo, retry = true): AsyncGenerator<Piece> {
    if (s.index && !this.overlaps(s.index.firstTs, s.index.lastTs)) return;
    let fh: FileHandle;
    try {
      fh = await fsp.open(s.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !retry) return;
      // Compression or retention replaced or removed it since the listing: look again.
      const again = (await listSegments(this.dir)).find((x) => x.seq === s.seq);
      if (again) yield* this.readSegment(again, false);
      return;
    }
    try {
      const size = (await fh.stat()).size;
      const final = s.state !== 'active';
      for (const [from, to] of this.ranges(s.index, size)) {
        yield* this.readRange(fh, from, to, final, s.path);
      }
    } finally {
      await fh.close();
    }
  }

  /** The byte ranges of a segment whose sparse entries overlap the time range. */
  private ranges(index: SegmentIndex | undefined, size: number): Array<[number, number]> {
    if (!index || index.entries.length === 0) return [[FILE_HEADER_BYTES, size]];
    const out: Array<[number, number]> = [];
    const entries = index.entries;
    for (let i = 0; i < entries.length; i++) {
      const [offset, minTs, maxTs, records] = entries[i];
      if (records > 0 && !this.overlaps(minTs, maxTs)) continue;
      const end = i + 1 < entries.length ? entries[i + 1][0] : size;
      const last = out[out.length - 1];
      if (last && last[1] === offset) last[1] = end;
      else out.push([offset, end]);
    }
    return out;
  }

  /**
   * Yields the in-range lines of the blocks in [from, to); returns where reading stopped
   * (a block still being written stops it; in a final segment a corrupt block is skipped).
   */
  private async *readRange(
    fh: FileHandle,
    from: number,
    to: number,
    final: boolean,
    path: string,
  ): AsyncGenerator<Piece, number> {
    let at = from;
    for (;;) {
      const scan = scanBlocks(fh, at, to);
      let r = await scan.next();
      while (!r.done) {
        const piece = this.select(r.value);
        if (piece) yield piece;
        r = await scan.next();
      }
      const end = r.value;
      if (end.reason !== 'corrupt' || !final) return end.offset;
      // Logger and metrics are loaded only here, so a plain read starts without them.
      const [{ storeMetrics }, { componentLogger }] = await Promise.all([
        import('./metrics.js'),
        import('../telemetry/logger.js'),
      ]);
      storeMetrics().corruptBlocks.inc();
      const next = await findNextBlock(fh, end.offset, to);
      componentLogger('store').warn(
        { path, offset: end.offset, problem: end.problem, resumeAt: next },
        'Skipped a corrupt block while reading a segment.',
      );
      if (next < 0) return to;
      at = next;
    }
  }

  private overlaps(minTs: number | null, maxTs: number | null): boolean {
    if (minTs === null || maxTs === null) return false;
    return maxTs >= this.since && minTs <= this.until;
  }

  /** The block's records within the time range, or undefined when none are. */
  private select(block: DecodedBlock): Piece | undefined {
    if (block.records === 0 || !this.overlaps(block.minTs, block.maxTs)) return undefined;
    const payload = blockPayload(block);
    const sorted = (block.flags & BLOCK_FLAG_SORTED) !== 0;
    if (block.minTs >= this.since && block.maxTs <= this.until) {
      return { payload, minTs: block.minTs, maxTs: block.maxTs, sorted };
    }
    if (sorted) return this.selectSorted(payload);
    // The block straddles a bound: keep its in-range lines (runs of them copied at once).
    const { starts, ts } = indexLines(payload);
    const keep: Buffer[] = [];
    let minTs = Infinity;
    let maxTs = -Infinity;
    let from = -1;
    for (let i = 0; i < ts.length; i++) {
      const inRange = ts[i] >= this.since && ts[i] <= this.until;
      if (inRange) {
        if (from < 0) from = starts[i];
        if (ts[i] < minTs) minTs = ts[i];
        if (ts[i] > maxTs) maxTs = ts[i];
      } else if (from >= 0) {
        keep.push(payload.subarray(from, starts[i]));
        from = -1;
      }
    }
    if (from >= 0) keep.push(payload.subarray(from, starts[ts.length]));
    if (keep.length === 0) return undefined;
    return { payload: keep.length === 1 ? keep[0] : Buffer.concat(keep), minTs, maxTs, sorted };
  }

  /**
   * The in-range lines of a block whose lines are in time order (its header flag; verify
   * checks it): one contiguous run, found by binary search on line times, so a window read
   * does not read the time of every line of the blocks at its edges.
   */
  private selectSorted(payload: Buffer): Piece | undefined {
    const from = firstLineWhere(payload, 0, (ts) => ts >= this.since);
    const to = firstLineWhere(payload, from, (ts) => ts > this.until);
    if (to <= from) return undefined;
    const minTs = lineTimeAt(payload, from);
    const maxTs = lineTimeAt(payload, previousLineStart(payload, to));
    return { payload: payload.subarray(from, to), minTs, maxTs, sorted: true };
  }

  // --- follow ----------------------------------------------------------------------------

  private async *followFrom(afterSeq: number): AsyncGenerator<Buffer> {
    let lastSeq = afterSeq;
    while (!this.stopped) {
      const next = (await listSegments(this.dir)).find((s) => s.seq > lastSeq);
      if (!next) {
        await this.sleep();
        continue;
      }
      if (next.state === 'closed' || next.state === 'compressed') {
        for await (const piece of this.readSegment(next)) yield piece.payload;
        lastSeq = next.seq;
        continue;
      }
      let fh: FileHandle;
      try {
        fh = await fsp.open(next.path, 'r');
      } catch {
        continue; // closed and compressed since the listing: list again
      }
      try {
        yield* this.tail(fh, next);
      } finally {
        await fh.close();
      }
      lastSeq = next.seq;
    }
  }

  /** Reads a segment being written until a newer segment exists, then to its end. */
  private async *tail(fh: FileHandle, s: SegmentInfo): AsyncGenerator<Buffer> {
    let offset = FILE_HEADER_BYTES;
    while (!this.stopped) {
      // Check for a newer segment before reading: the writer finishes this file first.
      const newer = (await newestSeq(this.dir)) > s.seq;
      const size = (await fh.stat()).size;
      const read = this.readRange(fh, offset, size, newer, s.path);
      let r = await read.next();
      while (!r.done) {
        yield r.value.payload;
        r = await read.next();
      }
      const progressed = r.value > offset;
      offset = r.value;
      if (newer) return;
      if (!progressed) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, this.opts.pollIntervalMs ?? 200);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

async function newestSeq(dir: string): Promise<number> {
  let max = 0;
  for (const n of await fsp.readdir(dir)) {
    const m = SEGMENT_NAME.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** Lines shorter than this around a search point are read one by one instead of halved. */
const LINEAR_SEARCH_BYTES = 4096;

/** Offset just past the end of the line starting at `start` (its "\n" included). */
function lineEnd(b: Buffer, start: number): number {
  const nl = b.indexOf(10, start);
  return nl < 0 ? b.length : nl + 1;
}

function lineTimeAt(b: Buffer, start: number): number {
  return bufferLineTime(b, start, lineEnd(b, start));
}

/** Start of the line that ends at `end` (a line start or the buffer's end), `end` > 0. */
function previousLineStart(b: Buffer, end: number): number {
  // (A negative offset would make lastIndexOf search from the buffer's end.)
  const nl = end < 2 ? -1 : b.lastIndexOf(10, end - 2);
  return nl < 0 ? 0 : nl + 1;
}

/**
 * Start of the first line at or after `from` whose time passes `test` (b.length when none),
 * for NDJSON in time order and a test that, once true, stays true for later lines.
 */
function firstLineWhere(b: Buffer, from: number, test: (ts: number) => boolean): number {
  let lo = from; // a line start; no line before it passes
  let hi = b.length; // a line start that passes, or the end
  while (hi - lo > LINEAR_SEARCH_BYTES) {
    const mid = lineEnd(b, (lo + hi) >>> 1);
    if (mid >= hi) break;
    if (test(lineTimeAt(b, mid))) hi = mid;
    else lo = mid;
  }
  while (lo < hi) {
    const end = lineEnd(b, lo);
    if (test(bufferLineTime(b, lo, end))) return lo;
    lo = end;
  }
  return hi;
}

/** Opens a store folder for reading; iterate it for record batches or call raw(). */
export function openStoreReader(dir: string, opts: StoreReaderOptions = {}): StoreReader {
  if (opts.since !== undefined && opts.until !== undefined && opts.since > opts.until) {
    throw new StoreError(`${dir}: since (${opts.since}) is after until (${opts.until})`);
  }
  return new StoreReader(dir, opts);
}
