// The file source (tailer): follows the files that globs select through appends, rotation,
// truncation and restarts, and produces batches of parsed records. A file's checkpoint moves
// only when the batches holding its lines are acknowledged, so a crash repeats at most the
// unacknowledged batches and loses nothing.

import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Acknowledgement, type AckOutcome } from '../../record/batch.js';
import type { LogRecord } from '../../record/record.js';
import { createLineParser } from '../../parse/index.js';
import { AccessBytes, accessBytesFormat } from '../../parse/access-bytes.js';
import type { AutoLineParser } from '../../parse/line-parser.js';
import { RecordBytesWriter } from '../../record/json-bytes.js';
import { componentLogger } from '../../telemetry/logger.js';
import { counter, gauge } from '../../telemetry/metrics.js';
import {
  CheckpointStore,
  type BatchRange,
  type CheckpointEntry,
  type OpenBatchEntry,
} from './checkpoint.js';
import { FileDiscovery } from './discovery.js';
import { headMatches, identityKey, type Fingerprint } from './identity.js';
import { LineJoiner } from './join.js';
import { GzipReader, isGzipPath } from './gzip.js';
import { lineText, type RawLine } from './lines.js';
import {
  resolveFileSourceOptions,
  type FileBatch,
  type FileSourceOptions,
  type ResolvedFileSourceOptions,
  type SourceLine,
} from './options.js';
import { openFile, Tail, type FileMetrics } from './tail.js';

export type {
  CheckpointPosition,
  FileBatch,
  FileSourceOptions,
  MultilineOptions,
  SourceLine,
} from './options.js';
export { FILE_SOURCE_DEFAULTS } from './options.js';
export type { FileMetrics } from './tail.js';
export type { RawLine } from './lines.js';
export {
  CHECKPOINT_FILE,
  type BatchRange,
  type CheckpointEntry,
  type CheckpointState,
  type OpenBatchEntry,
} from './checkpoint.js';

/** A copy is recognised by its first bytes only when there are at least this many. */
const MIN_COPY_FINGERPRINT_BYTES = 16;
/** Content seen before a truncation is remembered this long, to recognise its copy. */
const HISTORY_TTL_MS = 10 * 60_000;
/** Released files whose counters metrics() still reports. */
const MAX_RELEASED_METRICS = 100;
/** Chunks read from one file before giving others a turn. */
const CHUNKS_PER_TURN = 4;
/** Output chunk size with encodeRecords: a batch file is written in a few such pieces. */
const ENCODED_CHUNK_BYTES = 1 << 20;

const linesTotal = counter('sluice_file_source_lines_total', 'Lines read by the file source', [
  'outcome',
]);
const recordsTotal = counter(
  'sluice_file_source_records_total',
  'Records emitted by the file source',
);
const bytesTotal = counter('sluice_file_source_bytes_total', 'Bytes read by the file source');
const filesGauge = gauge('sluice_file_source_files', 'Files followed by the file source');

interface Builder {
  records: LogRecord[];
  /** Records in the batch: records.length, or with encodeRecords the lines in `parts`. */
  count: number;
  /** With encodeRecords: the batch's NDJSON so far (full writer chunks). */
  parts: Buffer[];
  lines: SourceLine[];
  bytes: number;
  marks: Map<Tail, number>;
  /** Where each file's range in this batch starts (its lines before are in earlier ones). */
  starts: Map<Tail, number>;
}

interface OpenBatch extends OpenBatchEntry {
  settled: boolean;
}

interface Seen {
  fingerprint: Fingerprint;
  offset: number;
  path: string;
  at: number;
}

export class FileSource implements AsyncIterable<FileBatch> {
  readonly options: ResolvedFileSourceOptions;
  private readonly log = componentLogger('file-source');
  private readonly discovery: FileDiscovery;
  private readonly store?: CheckpointStore;
  private readonly tails = new Map<string, Tail>();
  private readonly byPath = new Map<string, Tail>();
  private readonly released: FileMetrics[] = [];
  /** Files (dev:ino) whose reading failed, such as corrupt archives: not taken up again. */
  private readonly failed = new Set<string>();
  private stored = new Map<string, CheckpointEntry>();
  private history: Seen[] = [];
  private firstStart = true;
  private initialScan = true;
  private readonly dirty = new Set<Tail>();
  private builder: Builder = newBuilder();
  private readonly queue: FileBatch[] = [];
  private pullWaiter?: () => void;
  private unacked = 0;
  private stopping = false;
  private ended = false;
  private started = false;
  private wakeFn?: () => void;
  private scanDue = true;
  private tickDue = false;
  private cutDue = false;
  private cutTimer?: NodeJS.Timeout;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly buf: Buffer;
  private pumpDone: Promise<void> = Promise.resolve();
  private failure?: unknown;
  private idleSettled: Array<() => void> = [];
  /** Cut batches whose lines are not all checkpointed yet, oldest first. */
  private open: OpenBatch[] = [];
  /** Set while batches of the previous run are cut again: their cut time, no size cuts. */
  private replayCutAt?: number;
  /** With encodeRecords (when nothing needs the records): what batches are encoded with. */
  private readonly writer?: RecordBytesWriter;
  /** Per file, the byte-level access-line path (src/parse/access-bytes.ts). */
  private readonly fast = new WeakMap<Tail, AccessBytes>();

  constructor(opts: FileSourceOptions) {
    this.options = resolveFileSourceOptions(opts);
    this.discovery = new FileDiscovery(this.options);
    if (this.options.stateDir) this.store = new CheckpointStore(this.options.stateDir);
    this.buf = Buffer.allocUnsafe(this.options.readChunkBytes);
    const o = this.options;
    const recordsNeeded =
      o.createParser || o.lineFilter || o.recordTransform || o.keepLines || o.multiline;
    if (o.encodeRecords && !recordsNeeded) {
      const emit = (chunk: Buffer) => this.builder.parts.push(chunk);
      this.writer = new RecordBytesWriter(emit, ENCODED_CHUNK_BYTES);
    }
  }

  /** Gives the NDJSON pieces of a delivered batch back for reuse (encodeRecords). */
  recycle(batch: FileBatch): void {
    for (const chunk of batch.ndjson ?? []) this.writer?.recycle(chunk);
  }

  /** Loads checkpoints, takes up the files that exist and starts following them. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const state = await this.store?.load();
    if (state) {
      this.firstStart = false;
      for (const e of state.files) this.stored.set(identityKey(e), e);
    }
    await this.scan();
    this.initialScan = false;
    if (state?.batches) await this.replay(state.batches);
    // Files gone while capture was stopped: their content may reappear as a copy or archive.
    for (const entry of this.stored.values()) this.remember(entry);
    this.stored.clear();
    await this.saveCheckpoint();
    this.startTimers();
    this.pumpDone = this.pump().catch((err) => {
      this.failure = err;
      this.endQueue();
    });
  }

  /** Stops reading, emits what is held (partial lines, pending multiline events), ends. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.wake();
    await this.pumpDone;
    for (const t of this.timers) clearInterval(t);
    if (this.cutTimer) clearTimeout(this.cutTimer);
    await this.discovery.close();
    for (const tail of this.tails.values()) this.flushHeld(tail, true);
    this.cut();
    this.endQueue();
  }

  /**
   * After stop(): waits up to `timeoutMs` for the emitted batches to be acknowledged, writes
   * the last checkpoint and closes the files.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    await this.stop();
    if (this.unacked > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleSettled.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    await this.saveCheckpoint();
    for (const tail of this.tails.values()) await tail.close();
    filesGauge.set(0);
  }

  /** Resolves when every checkpoint save requested so far is durable. */
  checkpointed(): Promise<void> {
    return this.store?.flushed() ?? Promise.resolve();
  }

  /**
   * Resolves once the checkpoint holds that `batch` was cut (its ranges and cut time), so a
   * crash after delivering it cuts it again identically, with the same id. Deliver a batch
   * only after this; the write starts when the batch is cut, so it is usually done already.
   */
  intended(_batch: FileBatch): Promise<void> {
    return this.store?.flushed() ?? Promise.resolve();
  }

  /** Per-file counters: followed files first, then released ones. */
  metrics(): FileMetrics[] {
    return [...[...this.tails.values()].map((t) => t.metrics), ...this.released];
  }

  /** Calls `onBatch` for each batch in turn; resolves when the source has ended. */
  async run(onBatch: (batch: FileBatch) => Promise<void> | void): Promise<void> {
    for await (const batch of this) await onBatch(batch);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<FileBatch> {
    await this.start();
    for (;;) {
      const batch = this.queue.shift();
      if (batch) {
        yield batch;
        continue;
      }
      if (this.ended) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.pullWaiter = resolve));
    }
  }

  // ---- the reading loop ------------------------------------------------------------------

  private async pump(): Promise<void> {
    while (!this.stopping) {
      if (this.scanDue) await this.scan();
      if (this.tickDue) this.housekeeping();
      if (this.cutDue) this.cut();
      const tail = this.unacked < this.options.maxPendingBatches ? this.nextDirty() : undefined;
      if (tail) await this.service(tail);
      else await new Promise<void>((resolve) => (this.wakeFn = resolve));
    }
  }

  private wake(): void {
    const fn = this.wakeFn;
    this.wakeFn = undefined;
    fn?.();
  }

  private nextDirty(): Tail | undefined {
    for (const tail of this.dirty) {
      this.dirty.delete(tail);
      if (this.tails.get(tail.key) !== tail) continue;
      // After a rename rotation, the old file is read to its end before the new one.
      if (tail.after && this.tails.get(tail.after.key) === tail.after && !tail.after.atEof) {
        this.dirty.add(tail.after);
        continue;
      }
      return tail;
    }
    return undefined;
  }

  private startTimers(): void {
    const o = this.options;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(() => {
        fn();
        this.wake();
      }, ms);
      this.timers.push(t);
    };
    every(o.pollIntervalMs, () => (this.tickDue = true));
    every(o.scanIntervalMs, () => (this.scanDue = true));
    if (!o.noWatcher) {
      this.discovery.watch({
        onAdd: () => this.requestScan(),
        onUnlink: () => this.requestScan(),
        onChange: (path) => {
          const tail = this.byPath.get(path);
          if (tail) this.dirty.add(tail);
          else this.scanDue = true;
          this.wake();
        },
        onError: (err) => this.log.warn({ error: String(err) }, 'File watcher failed; polling.'),
      });
    }
  }

  private requestScan(): void {
    this.scanDue = true;
    this.wake();
  }

  /** Every poll: look at every file, flush idle partial lines, release finished files. */
  private housekeeping(): void {
    this.tickDue = false;
    const now = Date.now();
    this.history = this.history.filter((h) => now - h.at < HISTORY_TTL_MS);
    for (const tail of [...this.tails.values()]) {
      this.dirty.add(tail);
      if (tail.atEof) this.flushIdle(tail, now);
      const idle = now - tail.lastGrowthAt >= this.options.rotateWaitMs;
      const done = tail.atEof && idle && !tail.hasInflight;
      if (tail.detachedAt !== undefined && done) this.release(tail);
    }
  }

  /** Reads from one file until its end, a full turn, or back-pressure. */
  private async service(tail: Tail): Promise<void> {
    try {
      await this.refresh(tail);
      for (let turn = 0; turn < CHUNKS_PER_TURN; turn++) {
        const n = await tail.read(this.buf);
        if (n === 0) break;
        // Checked again after the read: a truncation during it would make the chunk a mix
        // of old and new content, so the chunk is dropped and reading starts again at 0.
        if (await this.refresh(tail)) break;
        bytesTotal.inc(n);
        const lines: RawLine[] = [];
        const chunk = this.buf.subarray(0, n);
        tail.splitter.push(chunk, tail.readPos - n, lines);
        if (tail.splitter.pendingBytes > 0) tail.partialSince = Date.now();
        this.accept(tail, lines, chunk);
        if (this.unacked >= this.options.maxPendingBatches) break;
      }
      if (!tail.atEof) this.dirty.add(tail);
      else this.flushIdle(tail, Date.now());
    } catch (err) {
      this.log.warn(
        { file: tail.path, error: (err as Error).message },
        'File read failed; it is not retried while this process runs.',
      );
      this.failed.add(tail.key);
      this.release(tail);
    }
  }

  /** Looks for truncation or replaced content; true when the file is read again from 0. */
  private async refresh(tail: Tail): Promise<boolean> {
    const before = { fingerprint: { ...tail.fingerprint }, offset: tail.takenUpTo };
    const change = await tail.refresh(this.options.fingerprintBytes);
    if (change) this.onRestart(tail, change, before);
    return change !== undefined;
  }

  private onRestart(
    tail: Tail,
    change: string,
    before: { fingerprint: Fingerprint; offset: number },
  ) {
    this.history.push({ ...before, path: tail.path, at: Date.now() });
    this.log.info(
      { file: tail.path, decision: change, previousOffset: before.offset },
      'File truncated or replaced; reading it again from the start.',
    );
  }

  /** Emits a partial last line or a pending multiline event once its time is up. */
  private flushIdle(tail: Tail, now: number): void {
    const out: RawLine[] = [];
    const pending = tail.splitter.pendingBytes > 0;
    if (pending && now - tail.partialSince >= this.options.partialFlushMs) {
      tail.splitter.flushPartial(out);
    }
    if (tail.joiner) {
      const events: RawLine[] = [];
      for (const line of out) tail.joiner.push(line, now, events);
      tail.joiner.flushIfIdle(now, events);
      this.take(tail, events, out.length);
    } else if (out.length > 0) this.take(tail, out, out.length);
  }

  /** Emits everything a file holds (used at stop and when the file is released). */
  private flushHeld(tail: Tail, all: boolean, flushParser = true): void {
    const out: RawLine[] = [];
    if (all) tail.splitter.flushPartial(out);
    const events: RawLine[] = [];
    if (tail.joiner) {
      for (const line of out) tail.joiner.push(line, Date.now(), events);
      tail.joiner.flush(events);
    } else events.push(...out);
    this.take(tail, events, out.length);
    if (!flushParser) return;
    const records: LogRecord[] = [];
    tail.parser?.flush(records);
    for (const rec of records) this.addRecord(tail, rec, undefined);
  }

  private accept(tail: Tail, lines: RawLine[], chunk: Buffer): void {
    if (!tail.joiner) {
      this.take(tail, lines, lines.length, chunk);
      return;
    }
    const events: RawLine[] = [];
    const now = Date.now();
    for (const line of lines) tail.joiner.push(line, now, events);
    this.take(tail, events, lines.length);
  }

  /**
   * Filters, parses and batches events (lines, or joined lines) of one file. `chunk` is the
   * read buffer the events' `at` offsets point into, when they came from one.
   */
  private take(tail: Tail, events: RawLine[], linesRead: number, chunk?: Buffer): void {
    tail.metrics.linesRead += linesRead;
    linesTotal.inc({ outcome: 'read' }, linesRead);
    if (events.length === 0) return;
    const filter = this.options.lineFilter;
    const parser = (tail.parser ??= this.newParser(tail.path));
    const fast = chunk && this.writer ? this.fastPath(tail) : undefined;
    const out: LogRecord[] = [];
    let filtered = 0;
    let end = -1;
    for (const ev of events) {
      if (ev.truncatedFromBytes !== undefined) tail.metrics.linesTruncated++;
      end = ev.end;
      if (filter && !filter(ev.text)) {
        filtered++;
        continue;
      }
      if (!fast || ev.at === undefined || !this.takeFast(tail, fast, chunk as Buffer, ev)) {
        if (ev.deferred) ev.text = lineText(chunk as Buffer, ev);
        parser.push(ev.text, out);
        for (const rec of out) this.addRecord(tail, rec, ev);
        out.length = 0;
      }
      this.builder.bytes += ev.end - ev.start;
      if (this.batchFull()) {
        this.mark(tail, end);
        this.cut();
      }
    }
    // One mark per call: only the last offset of a file in a batch matters.
    this.mark(tail, end);
    if (filtered > 0) {
      tail.metrics.linesFiltered += filtered;
      linesTotal.inc({ outcome: 'filtered' }, filtered);
    }
  }

  private addRecord(tail: Tail, rec: LogRecord, ev: RawLine | undefined): void {
    rec.source = tail.path;
    if (ev?.truncatedFromBytes !== undefined) {
      const fields = (rec.fields ??= {});
      fields.truncated = true;
      fields.line_bytes = ev.truncatedFromBytes;
    }
    this.options.recordTransform?.(rec, ev?.text ?? rec.raw ?? rec.message);
    if (this.writer) this.writer.add(rec);
    else this.builder.records.push(rec);
    this.builder.count++;
    if (this.options.keepLines && ev) this.builder.lines.push({ ...ev, source: tail.path });
    tail.metrics.recordsEmitted++;
  }

  private batchFull(): boolean {
    if (this.replayCutAt !== undefined) return false;
    const b = this.builder;
    return b.count >= this.options.batchSize || b.bytes >= this.options.batchBytes;
  }

  private fastPath(tail: Tail): AccessBytes | undefined {
    if (!accessBytesFormat(this.options.parse.format)) return undefined;
    let f = this.fast.get(tail);
    if (f === undefined) {
      f = new AccessBytes(tail.path, this.options.parse.keepRaw === true);
      this.fast.set(tail, f);
    }
    return f;
  }

  /**
   * Writes a plain access line's record straight from the read buffer, when the byte-level
   * path takes the line whole and the parser's detection would read it as an access line;
   * false sends the line to the parser.
   */
  private takeFast(tail: Tail, fast: AccessBytes, chunk: Buffer, ev: RawLine): boolean {
    const at = ev.at as number;
    const newline = at + (ev.end - ev.start) - 1;
    if (chunk[newline] !== 0x0a || fast.scan(chunk, at) !== newline) return false;
    // newParser() made an AutoLineParser: createParser, the only other kind, turns this off.
    const parser = tail.parser as AutoLineParser;
    if (!parser.takesAccess(chunk[at], chunk[at + 10])) return false;
    parser.sawAccess();
    fast.write(chunk, this.writer as RecordBytesWriter);
    this.builder.count++;
    tail.metrics.recordsEmitted++;
    tail.metrics.recordsFromBytes++;
    return true;
  }

  /** Notes that the batch being built covers `tail` up to `end`. */
  private mark(tail: Tail, end: number): void {
    const b = this.builder;
    if (b.marks.size === 0) this.armCutTimer();
    if (!b.starts.has(tail)) b.starts.set(tail, tail.batchedUpTo);
    b.marks.set(tail, end);
    tail.batchedUpTo = end;
  }

  private newParser(_path: string) {
    const o = this.options;
    if (o.createParser) return o.createParser(_path);
    return createLineParser({ ...o.parse, maxLineBytes: o.maxLineBytes });
  }

  private armCutTimer(): void {
    if (this.cutTimer) clearTimeout(this.cutTimer);
    this.cutTimer = setTimeout(() => {
      this.cutDue = true;
      this.wake();
    }, this.options.batchWaitMs);
  }

  // ---- batches and acknowledgements ------------------------------------------------------

  /** Ends the batch being built and hands it on (or settles it at once when all filtered). */
  private cut(): void {
    this.cutDue = false;
    if (this.cutTimer) clearTimeout(this.cutTimer);
    this.cutTimer = undefined;
    const b = this.builder;
    if (b.marks.size === 0 && b.count === 0) return;
    this.builder = newBuilder();
    const settles = [...b.marks].map(([tail, end]) => tail.track(end));
    const cutAt = this.replayCutAt ?? Date.now();
    const ranges: BatchRange[] = [...b.marks].map(([tail, end]) => ({
      dev: tail.identity.dev,
      ino: tail.identity.ino,
      start: b.starts.get(tail) ?? end,
      end,
    }));
    const open: OpenBatch = { cutAt, ranges, settled: false };
    this.open.push(open);
    if (b.count === 0) {
      // Every line was filtered out: delivered by policy, nothing to hand on.
      for (const settle of settles) settle();
      this.settleOpen(open);
      void this.saveCheckpoint().catch(() => undefined);
      return;
    }
    recordsTotal.inc(b.count);
    this.unacked++;
    const ack = new Acknowledgement((outcome) => this.onAck(outcome, settles, b, open));
    const id = batchId(cutAt, ranges);
    const batch: FileBatch = { records: b.records, bytes: b.bytes, ack, id, cutAt, count: b.count };
    if (this.writer) {
      const last = this.writer.take();
      if (last !== undefined) b.parts.push(last);
      batch.ndjson = b.parts;
    }
    batch.positions = [...b.marks].map(([tail, end]) => ({
      path: tail.path,
      dev: tail.identity.dev,
      ino: tail.identity.ino,
      fingerprint: { ...tail.fingerprint },
      offset: end,
    }));
    if (this.options.keepLines) batch.lines = b.lines;
    // The intent: written now, while earlier batches are being delivered (see intended()).
    void this.saveCheckpoint().catch(() => undefined);
    this.queue.push(batch);
    const waiter = this.pullWaiter;
    this.pullWaiter = undefined;
    waiter?.();
  }

  /** Drops settled batches from the front of the open list: their lines are checkpointed. */
  private settleOpen(open: OpenBatch): void {
    open.settled = true;
    let done = 0;
    while (done < this.open.length && this.open[done].settled) done++;
    if (done > 0) this.open.splice(0, done);
  }

  private onAck(
    outcome: AckOutcome,
    settles: Array<() => void>,
    b: Builder,
    open: OpenBatch,
  ): void {
    this.unacked--;
    if (outcome.status === 'rejected') {
      // The lines were not delivered: the checkpoint of these files stays where it is, so a
      // restart reads them again.
      for (const tail of b.marks.keys()) tail.stalled = true;
      this.log.error(
        { reason: outcome.reason, records: b.count },
        'Batch rejected; its files stop checkpointing.',
      );
    } else {
      for (const settle of settles) settle();
      this.settleOpen(open);
    }
    void this.saveCheckpoint().catch((err) => {
      this.log.error({ error: (err as Error).message }, 'Checkpoint write failed.');
    });
    if (this.unacked === 0) for (const fn of this.idleSettled.splice(0)) fn();
    this.wake();
  }

  private saveCheckpoint(): Promise<void> {
    if (!this.store) return Promise.resolve();
    const entries: CheckpointEntry[] = [];
    for (const tail of this.tails.values()) {
      // A stalled file (rejected batch) keeps its entry: its offset stops before that batch.
      entries.push({
        path: tail.path,
        dev: tail.identity.dev,
        ino: tail.identity.ino,
        fingerprint: { ...tail.fingerprint },
        offset: tail.committed,
      });
    }
    const batches = this.open.map(({ cutAt, ranges }) => ({ cutAt, ranges }));
    return this.store.save(entries, batches);
  }

  /**
   * Cuts again, identically, the batches the previous run had cut but not checkpointed: the
   * same byte ranges and cut time, so the same ids. Stops at the first batch that cannot be
   * reproduced (a file gone or replaced, a range not starting where reading resumes); lines
   * after it are read as usual and batched anew (at least once, not deduplicated).
   */
  private async replay(batches: OpenBatchEntry[]): Promise<void> {
    let replayed = 0;
    for (const entry of batches) {
      const tails = entry.ranges.map((r) => this.tails.get(identityKey(r)));
      const ready = tails.every((t, i) => {
        const r = entry.ranges[i];
        return t !== undefined && t.readPos === r.start && t.batchedUpTo === r.start;
      });
      if (!ready || !(await this.replayBatch(entry, tails as Tail[]))) {
        // What was read of a batch that fell short is a new batch, with a new identity.
        this.replayCutAt = undefined;
        this.log.warn(
          { replayed, left: batches.length - replayed },
          'Batches of the previous run cannot be cut again identically; reading on as new.',
        );
        break;
      }
      replayed++;
    }
    if (this.builder.marks.size > 0) this.cut();
    this.replayCutAt = undefined;
    if (replayed > 0) {
      this.log.info({ batches: replayed }, 'Unconfirmed batches of the previous run cut again.');
    }
  }

  private async replayBatch(entry: OpenBatchEntry, tails: Tail[]): Promise<boolean> {
    this.replayCutAt = entry.cutAt;
    for (let i = 0; i < tails.length; i++) {
      if (!(await this.replayRange(tails[i], entry.ranges[i].end))) return false;
    }
    this.cut();
    return true;
  }

  /** Reads [readPos, end) of one file into the batch being built; false if it fell short. */
  private async replayRange(tail: Tail, end: number): Promise<boolean> {
    while (tail.readPos < end) {
      const n = await tail.read(
        this.buf.subarray(0, Math.min(this.buf.length, end - tail.readPos)),
      );
      if (n === 0) return false;
      const lines: RawLine[] = [];
      const chunk = this.buf.subarray(0, n);
      tail.splitter.push(chunk, tail.readPos - n, lines);
      this.accept(tail, lines, chunk);
    }
    // The batch ended here: what is held (a partial line flushed then, an event completed by
    // a later line) was emitted into it, so it is emitted now as well.
    this.flushHeld(tail, true, false);
    this.dirty.add(tail);
    return tail.batchedUpTo === end;
  }

  private endQueue(): void {
    this.ended = true;
    const waiter = this.pullWaiter;
    this.pullWaiter = undefined;
    waiter?.();
  }

  // ---- discovery and identity ------------------------------------------------------------

  private async scan(): Promise<void> {
    this.scanDue = false;
    const paths = await this.discovery.scan();
    const seen = new Set<Tail>();
    for (const path of paths) await this.takeUp(path, seen);
    for (const tail of this.tails.values()) {
      if (!seen.has(tail) && tail.detachedAt === undefined) this.detach(tail);
    }
    filesGauge.set(this.tails.size);
  }

  private async takeUp(path: string, seen: Set<Tail>): Promise<void> {
    let st;
    try {
      st = await stat(path);
    } catch {
      return;
    }
    if (!st.isFile()) return;
    // An archive still being written (logrotate compressing) is taken up once it is quiet.
    if (isGzipPath(path) && Date.now() - st.mtimeMs < this.options.rotateWaitMs) return;
    if (this.failed.has(identityKey(st))) return;
    const known = this.tails.get(identityKey(st));
    if (known) {
      this.follow(known, path, seen);
      return;
    }
    let opened;
    try {
      opened = await openFile(path, this.options.fingerprintBytes);
    } catch (err) {
      this.log.warn({ file: path, error: (err as Error).message }, 'File cannot be opened.');
      return;
    }
    const raced = this.tails.get(identityKey(opened.identity));
    if (raced) {
      await opened.handle.close();
      this.follow(raced, path, seen);
      return;
    }
    const start = this.startOffset(
      opened.identity.dev,
      opened.identity.ino,
      opened.head,
      opened.size,
    );
    const o = this.options;
    const joiner = o.multiline
      ? new LineJoiner(o.multiline, o.multiline.timeoutMs ?? 1000)
      : undefined;
    const tail = new Tail(
      path,
      opened.handle,
      opened.identity,
      start.offset,
      opened.size,
      o.maxLineBytes,
      joiner,
      start.decision,
    );
    if (isGzipPath(path)) tail.gzip = new GzipReader(opened.handle);
    // The byte-level path reads lines from the chunk; the others are decoded when it declines.
    tail.splitter.deferText =
      this.writer !== undefined && accessBytesFormat(this.options.parse.format);
    const previous = this.byPath.get(path);
    if (previous && previous !== tail) tail.after = previous;
    this.tails.set(tail.key, tail);
    this.byPath.set(path, tail);
    seen.add(tail);
    this.dirty.add(tail);
    this.log.info({ file: path, decision: start.decision, offset: start.offset }, 'File taken up.');
  }

  /** A known file seen at a path: follows renames, and re-attaches it if it came back. */
  private follow(tail: Tail, path: string, seen: Set<Tail>): void {
    seen.add(tail);
    if (tail.path !== path) {
      if (this.byPath.get(tail.path) === tail) this.byPath.delete(tail.path);
      this.log.info({ file: path, from: tail.path }, 'File renamed; still following it.');
      tail.path = path;
      tail.metrics.path = path;
      tail.metrics.decision = 'renamed';
    }
    if (!this.byPath.has(path) || this.byPath.get(path)?.detachedAt !== undefined) {
      this.byPath.set(path, tail);
    }
    tail.detachedAt = undefined;
  }

  private detach(tail: Tail): void {
    tail.detachedAt = Date.now();
    tail.metrics.decision = 'gone';
    if (this.byPath.get(tail.path) === tail) this.byPath.delete(tail.path);
    this.dirty.add(tail);
  }

  /** Closes a file that is gone from every selected path and was read to its end. */
  private release(tail: Tail): void {
    if (this.tails.get(tail.key) !== tail) return;
    this.flushHeld(tail, true);
    this.tails.delete(tail.key);
    if (this.byPath.get(tail.path) === tail) this.byPath.delete(tail.path);
    // Remembered, so that an archive later made of this content is recognised.
    const offset = tail.takenUpTo;
    this.history.push({ fingerprint: tail.fingerprint, offset, path: tail.path, at: Date.now() });
    this.released.push(tail.metrics);
    // Keep the counters of recently released files only: rotation goes on for months.
    if (this.released.length > MAX_RELEASED_METRICS) this.released.shift();
    void tail.close();
    this.log.info({ file: tail.path, offset: tail.readPos }, 'File released.');
    void this.saveCheckpoint();
  }

  /** Keeps content that was read, for recognising its copies for a while. */
  private remember(entry: CheckpointEntry): void {
    const { fingerprint, offset, path } = entry;
    this.history.push({ fingerprint, offset, path, at: Date.now() });
  }

  /** Where to start reading a file seen for the first time by this process. */
  private startOffset(dev: number, ino: number, head: Buffer, size: number) {
    const key = identityKey({ dev, ino });
    const entry = this.stored.get(key);
    if (entry) {
      this.stored.delete(key);
      if (headMatches(head, entry.fingerprint) && entry.offset <= size) {
        return { offset: entry.offset, decision: 'resumed' };
      }
      this.log.info({ file: entry.path, inode: ino }, 'Checkpoint not applied: different content.');
      // The old content may live on in a copy (copytruncate while capture was stopped).
      this.remember(entry);
    }
    const copy = this.findCopy(head, size);
    if (copy) return { offset: copy.offset, decision: `copy of ${copy.path}` };
    if (this.initialScan && this.firstStart && this.options.startAt === 'end') {
      return { offset: size, decision: 'new, from the end' };
    }
    return { offset: 0, decision: 'new' };
  }

  /**
   * A new file whose first bytes equal those of a followed file (or of content read before a
   * truncation) is a copy, as copytruncate makes: what was already read of it is skipped.
   */
  private findCopy(head: Buffer, size: number): { offset: number; path: string } | undefined {
    const candidates: Array<{ fingerprint: Fingerprint; offset: number; path: string }> = [
      ...[...this.tails.values()].map((t) => ({
        fingerprint: t.fingerprint,
        offset: t.takenUpTo,
        path: t.path,
      })),
      ...this.history,
      ...this.stored.values(),
    ];
    for (const c of candidates) {
      if (c.fingerprint.bytes < MIN_COPY_FINGERPRINT_BYTES || c.offset === 0) continue;
      if (headMatches(head, c.fingerprint))
        return { offset: Math.min(c.offset, size), path: c.path };
    }
    return undefined;
  }
}

function newBuilder(): Builder {
  return {
    records: [],
    count: 0,
    parts: [],
    lines: [],
    bytes: 0,
    marks: new Map(),
    starts: new Map(),
  };
}

/** A batch's identity: a hash of its cut time and of each file's byte range in it. */
function batchId(cutAt: number, ranges: BatchRange[]): string {
  const hash = createHash('sha256').update(String(cutAt));
  for (const r of ranges) hash.update(`|${r.dev}:${r.ino}:${r.start}-${r.end}`);
  return `capture-${hash.digest('base64url').slice(0, 22)}`;
}

/** Builds a file source; call start() to begin, or iterate it (which starts it). */
export function createFileSource(opts: FileSourceOptions): FileSource {
  return new FileSource(opts);
}
