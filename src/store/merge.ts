// Time order across and within segments: a k-way merge of per-segment streams of pieces (the
// in-range records of one block), with a bounded look-ahead per stream. A piece whose records
// are in order and that ends before anything still pending is passed through whole, so an
// ordered store is read at the speed of its blocks; only overlapping pieces are split into
// lines and merged record by record.

import { lineTimestamp } from './scan.js';

/** The in-range records of one block, as NDJSON lines. */
export interface Piece {
  payload: Buffer;
  /** Oldest and newest record time in the piece (bounds; exact when filtered). */
  minTs: number;
  maxTs: number;
  /** The lines are in non-decreasing time order. */
  sorted: boolean;
}

/** A stream of pieces in storage order, opened only once its records can be next. */
export interface PieceSource {
  /** No record of the source is older than this (-Infinity when unknown). */
  firstTs: number;
  open(): AsyncIterator<Piece, unknown>;
}

export interface MergeOptions {
  /** Pieces read ahead per stream: a block stored this many blocks late is still in order. */
  lookaheadPieces?: number;
  /** Bytes of records held for merging; beyond it the oldest are written out regardless. */
  maxBufferedBytes?: number;
}

const OUT_CHUNK_BYTES = 256 * 1024;

/** Where each line of an NDJSON buffer starts and its timestamp, for splitting and merging. */
export function indexLines(payload: Buffer): { starts: number[]; ts: Float64Array } {
  const starts: number[] = [];
  let at = 0;
  while (at < payload.length) {
    starts.push(at);
    const nl = payload.indexOf(10, at);
    at = nl < 0 ? payload.length : nl + 1;
  }
  const ts = new Float64Array(starts.length);
  for (let i = 0; i < starts.length; i++) {
    const end = i + 1 < starts.length ? starts[i + 1] : payload.length;
    ts[i] = bufferLineTime(payload, starts[i], end);
  }
  starts.push(payload.length);
  return { starts, ts };
}

const TS_PREFIX = Buffer.from('{"timestamp":"', 'latin1');

/** Epoch ms of the line at [start, end), read from the bytes when it has the stored shape. */
export function bufferLineTime(b: Buffer, start: number, end: number): number {
  const t = start + TS_PREFIX.length;
  if (end - start > t - start + 24 && b[t + 23] === 90 && b[t + 19] === 46) {
    let ok = true;
    for (let i = 0; i < TS_PREFIX.length; i++) if (b[start + i] !== TS_PREFIX[i]) ok = false;
    const n = (at: number, len: number) => {
      let v = 0;
      for (let i = 0; i < len; i++) {
        const d = b[t + at + i] - 48;
        if (d < 0 || d > 9) ok = false;
        v = v * 10 + d;
      }
      return v;
    };
    const y = n(0, 4);
    const mo = n(5, 2);
    const d = n(8, 2);
    const h = n(11, 2);
    const mi = n(14, 2);
    const s = n(17, 2);
    const ms = n(20, 3);
    if (ok && y >= 1000 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60) {
      if (s < 60) return Date.UTC(y, mo - 1, d, h, mi, s, ms);
    }
  }
  return lineTimestamp(b.toString('utf8', start, end));
}

/** One piece split into lines, visited in time order. */
class Run {
  pos = 0;
  readonly starts: number[];
  readonly ts: Float64Array;
  readonly order: Uint32Array | undefined;

  constructor(
    readonly piece: Piece,
    readonly serial: number,
  ) {
    const { starts, ts } = indexLines(piece.payload);
    // A time that cannot be read (not written by this store) sorts as the piece's oldest, so
    // the heap's comparisons stay total and the record still comes out.
    for (let i = 0; i < ts.length; i++) if (Number.isNaN(ts[i])) ts[i] = piece.minTs;
    this.starts = starts;
    this.ts = ts;
    if (!piece.sorted) {
      const order = Array.from({ length: ts.length }, (_, i) => i);
      order.sort((a, b) => ts[a] - ts[b] || a - b);
      this.order = Uint32Array.from(order);
    }
  }

  get length(): number {
    return this.ts.length;
  }

  line(k: number): number {
    return this.order ? this.order[k] : k;
  }

  headTs(): number {
    return this.ts[this.line(this.pos)];
  }
}

/** A binary min-heap of runs by (head time, serial). */
class RunHeap {
  readonly items: Run[] = [];

  private less(a: Run, b: Run): boolean {
    const ta = a.headTs();
    const tb = b.headTs();
    return ta < tb || (ta === tb && a.serial < b.serial);
  }

  push(r: Run): void {
    const h = this.items;
    h.push(r);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** Restores the heap after the top's head moved on, or removes it when done. */
  fixTop(done: boolean): void {
    const h = this.items;
    const last = h.pop()!;
    if (done) {
      if (h.length === 0) return;
      h[0] = last;
    } else if (h.length === 0) {
      h.push(last);
      return;
    } else {
      h.push(last);
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }

  /** Head time of the best run other than the top. */
  secondTs(): number {
    const h = this.items;
    let t = Infinity;
    if (h.length > 1) t = h[1].headTs();
    if (h.length > 2) t = Math.min(t, h[2].headTs());
    return t;
  }
}

interface Stream {
  it: AsyncIterator<Piece, unknown>;
  look: Piece[];
  done: boolean;
}

/**
 * Merges the sources into NDJSON chunks in time order. Order is exact across sources (their
 * firstTs are lower bounds) and within a source whenever no piece starts earlier than a piece
 * stored `lookaheadPieces` or more pieces before it; past that, and past maxBufferedBytes,
 * records come out as soon as they must, never lost or repeated.
 */
export async function* mergeByTime(
  sources: PieceSource[],
  opts: MergeOptions = {},
): AsyncGenerator<Buffer> {
  const lookahead = Math.max(1, opts.lookaheadPieces ?? 8);
  const maxBuffered = opts.maxBufferedBytes ?? 256 * 1024 * 1024;
  const pending = [...sources].sort((a, b) => a.firstTs - b.firstTs);
  let nextSource = 0;
  const streams: Stream[] = [];
  const heap = new RunHeap();
  let buffered = 0;
  let serial = 0;
  let out: Buffer[] = [];
  let outBytes = 0;

  const fill = async (s: Stream) => {
    while (!s.done && s.look.length < lookahead) {
      const r = await s.it.next();
      if (r.done) s.done = true;
      else s.look.push(r.value);
    }
  };
  const frontier = (): number => {
    let f = nextSource < pending.length ? pending[nextSource].firstTs : Infinity;
    for (const s of streams) for (const p of s.look) if (p.minTs < f) f = p.minTs;
    return f;
  };
  const emit = (bound: number) => {
    const run = heap.items[0];
    const limit = Math.min(bound, heap.secondTs());
    const { starts } = run;
    // Consecutive lines of the payload are copied out as one range.
    let from = -1;
    let to = -1;
    do {
      const k = run.line(run.pos);
      if (starts[k] !== to) {
        if (from >= 0) push(run.piece.payload.subarray(from, to));
        from = starts[k];
      }
      to = starts[k + 1];
      run.pos++;
    } while (run.pos < run.length && run.headTs() <= limit);
    push(run.piece.payload.subarray(from, to));
    const done = run.pos >= run.length;
    if (done) buffered -= run.piece.payload.length;
    heap.fixTop(done);
  };
  const push = (b: Buffer) => {
    out.push(b);
    outBytes += b.length;
  };
  const take = (): Buffer => {
    const b = out.length === 1 ? out[0] : Buffer.concat(out, outBytes);
    out = [];
    outBytes = 0;
    return b;
  };

  try {
    for (;;) {
      const f = frontier();
      const force = f === Infinity || buffered > maxBuffered;
      if (heap.items.length > 0 && (force || heap.items[0].headTs() <= f)) {
        emit(force ? Infinity : f);
        if (outBytes >= OUT_CHUNK_BYTES) yield take();
        continue;
      }
      if (f === Infinity) break;
      if (nextSource < pending.length && pending[nextSource].firstTs === f) {
        const s: Stream = { it: pending[nextSource++].open(), look: [], done: false };
        streams.push(s);
        await fill(s);
        continue;
      }
      const s = streams.find((x) => x.look.some((p) => p.minTs === f))!;
      const piece = s.look.splice(
        s.look.findIndex((p) => p.minTs === f),
        1,
      )[0];
      await fill(s);
      if (s.done && s.look.length === 0) streams.splice(streams.indexOf(s), 1);
      if (heap.items.length === 0 && piece.sorted && piece.maxTs <= frontier()) {
        if (outBytes > 0) yield take();
        yield piece.payload;
        continue;
      }
      const run = new Run(piece, serial++);
      if (run.length === 0) continue;
      heap.push(run);
      buffered += piece.payload.length;
    }
    if (outBytes > 0) yield take();
  } finally {
    for (const s of streams) await s.it.return?.();
  }
}
