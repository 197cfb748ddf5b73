// The store writer: appends batches as blocks to the active segment, reports each batch when
// it is durable under the fsync policy, rotates by size and age, hands closed segments to the
// compression worker and applies retention. One writer per folder (LOCK).

import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, StoreError } from '../errors.js';
import type { LogRecord } from '../record/record.js';
import { componentLogger } from '../telemetry/logger.js';
import { Compressor } from './compressor.js';
import { encodeBatch, releasePayload } from './encode.js';
import {
  DATA_EXT,
  FILE_HEADER_BYTES,
  MAX_BATCH_ID_BYTES,
  encodeBlock,
  fileHeader,
  segmentName,
} from './format.js';
import { acquireLock, type StoreLock } from './lock.js';
import { storeMetrics } from './metrics.js';
import { resolveStoreOptions, type ResolvedStoreOptions, type StoreOptions } from './options.js';
import { prepareStore } from './prepare.js';
import type { RecoveryReport } from './recovery.js';
import { applyRetention, planRetention, type RetentionPlan } from './retention.js';
import { SegmentStats, syncDir, writeIndex } from './segment-index.js';
import { listSegments } from './segments.js';

export interface AppendOptions {
  /** Identity of the batch: a batch whose id is already stored is not stored again. */
  batchId?: string;
}

export interface AppendResult {
  stored: number;
  duplicate: boolean;
}

export interface StoreWriterStats {
  /** Records in the store (closed segments plus the active one). */
  records: number;
  /** Bytes of segment files on disk. */
  bytes: number;
  segments: number;
  /** Records, bytes and duplicate batches appended through this writer. */
  appendedRecords: number;
  appendedBytes: number;
  duplicates: number;
  activeSegment: string;
}

interface Waiter {
  records: number;
  bytes: number;
  startedNs: bigint;
  resolve: (r: AppendResult) => void;
  reject: (err: unknown) => void;
}

interface QueuedBlock extends Waiter {
  buffers: [Buffer, Buffer];
  crc: number;
  encoded: ReturnType<typeof encodeBatch>;
}

interface ActiveSegment {
  seq: number;
  name: string;
  fh: FileHandle;
  size: number;
  createdAt: number;
  stats: SegmentStats;
}

const log = componentLogger('store');

/** Largest write handed to the OS at once; larger runs of blocks are written in turns. */
const MAX_WRITE_BYTES = 8 * 1024 * 1024;

export class StoreWriter extends EventEmitter {
  private seg!: ActiveSegment;
  private queue: QueuedBlock[] = [];
  private unsynced: Waiter[] = [];
  private unsyncedBytes = 0;
  private syncTimer?: NodeJS.Timeout;
  private lastSyncAt = 0;
  private draining?: Promise<void>;
  private syncing?: Promise<void>;
  /** An fsync was asked for while one ran (syncBehind). */
  private syncWanted = false;
  private failed?: unknown;
  private closing = false;
  private readonly ids = new Map<string, true>();
  private readonly pendingIds = new Map<string, Promise<AppendResult>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly metrics = storeMetrics();
  private closedRecords = 0;
  private closedBytes = 0;
  private closedSegments = 0;
  private appended = { records: 0, bytes: 0, duplicates: 0 };
  private retentionRun?: Promise<RetentionPlan>;
  /** What recovery found when the store was opened (empty after a clean shutdown). */
  recovery: RecoveryReport[] = [];

  private constructor(
    readonly dir: string,
    readonly options: ResolvedStoreOptions,
    private readonly lock: StoreLock,
    private readonly compressor: Compressor,
  ) {
    super();
  }

  static async open(dir: string, opts: StoreOptions = {}): Promise<StoreWriter> {
    const options = resolveStoreOptions(opts);
    await fsp.mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw new StoreError(`${dir}: cannot create store folder (${(err as Error).message})`, {
        cause: err,
      });
    });
    const lock = await acquireLock(dir);
    try {
      const prepared = await prepareStore(dir, options.dedupeWindow);
      const compressor = new Compressor(dir, options.compressionLevel, options.dedupeWindow);
      const writer = new StoreWriter(dir, options, lock, compressor);
      writer.recovery = prepared.recovery;
      for (const id of prepared.batchIds) writer.remember(id);
      for (const s of prepared.segments) {
        writer.closedRecords += s.index?.records ?? 0;
        writer.closedBytes += s.sizeBytes;
        writer.closedSegments++;
        if (options.compression === 'gzip' && s.state === 'closed') writer.compress(s.name);
      }
      await writer.openSegment(prepared.nextSeq);
      writer.startTimers();
      void writer.runRetention();
      return writer;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Stores a batch; resolves when it is durable under the fsync policy. */
  append(records: LogRecord[], opts: AppendOptions = {}): Promise<AppendResult> {
    if (this.closing) return Promise.reject(new StoreError(`${this.dir}: store writer is closed`));
    if (this.failed) return Promise.reject(this.failedError());
    const id = opts.batchId;
    if (id === undefined) return this.enqueue(records, []);
    if (Buffer.byteLength(id) > MAX_BATCH_ID_BYTES) {
      return Promise.reject(
        new InputError(`batch id of ${Buffer.byteLength(id)} bytes is over ${MAX_BATCH_ID_BYTES}`),
      );
    }
    if (this.ids.has(id)) return Promise.resolve(this.duplicate());
    const pending = this.pendingIds.get(id);
    if (pending) return pending.then(() => this.duplicate());
    const p = this.enqueue(records, [id]).then(
      (r) => {
        this.pendingIds.delete(id);
        this.remember(id);
        return r;
      },
      (err: unknown) => {
        this.pendingIds.delete(id);
        throw err;
      },
    );
    this.pendingIds.set(id, p);
    return p;
  }

  /**
   * Stores a batch whose records are already encoded: `lines[i]` (one JSON object, no newline,
   * or undefined to encode records[i] here) is written as is; the records give the index facts
   * (time range, levels, services). The caller vouches that each line reads back as its record.
   */
  appendEncoded(
    records: LogRecord[],
    lines: ReadonlyArray<string | undefined>,
  ): Promise<AppendResult> {
    if (this.closing) return Promise.reject(new StoreError(`${this.dir}: store writer is closed`));
    if (this.failed) return Promise.reject(this.failedError());
    return this.enqueue(records, [], lines);
  }

  /** Closes the active segment now (it is compressed and a new one starts). */
  async rotate(): Promise<void> {
    await this.serial(() => this.rotateSegment('manual', true));
  }

  /** Applies the retention policy now; with dryRun, only says what would go. */
  async purge(opts: { dryRun?: boolean } = {}): Promise<RetentionPlan> {
    if (opts.dryRun) {
      const segments = await listSegments(this.dir);
      return planRetention(segments, this.options, Date.now(), this.busySegments());
    }
    return this.runRetention();
  }

  stats(): StoreWriterStats {
    return {
      records: this.closedRecords + this.seg.stats.records,
      bytes: this.closedBytes + this.seg.size,
      segments: this.closedSegments + 1,
      appendedRecords: this.appended.records,
      appendedBytes: this.appended.bytes,
      duplicates: this.appended.duplicates,
      activeSegment: this.seg.name,
    };
  }

  /**
   * Writes every queued batch and fsyncs now, whatever the policy: every append made before
   * the call has resolved when it returns.
   */
  async flush(): Promise<void> {
    if (this.failed) throw this.failedError();
    await this.flushQueue();
    await this.syncNow();
    if (this.failed) throw this.failedError();
  }

  /** Flushes and syncs everything, closes the active segment, waits for compression. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    try {
      await this.flushQueue();
      await this.retentionRun?.catch(() => undefined);
      if (this.failed) await this.closeAfterFailure();
      else await this.rotateSegment('close', false);
      await this.compressor.idle();
    } catch (err) {
      // Say which store: a bare "ENOSPC: no space left on device, write" names nothing.
      if (err instanceof StoreError) throw err;
      throw new StoreError(`${this.dir}: cannot close the store (${(err as Error).message})`, {
        cause: err,
      });
    } finally {
      await this.compressor.stop();
      await this.lock.release();
    }
  }

  /**
   * After a failed write the caller already has the error: close quietly. The file is cut back
   * to its last whole block and indexed when the disk allows; when not, it stays unindexed and
   * the next open recovers it (every batch reported durable is in a whole block).
   */
  private async closeAfterFailure(): Promise<void> {
    const seg = this.seg;
    try {
      await seg.fh.truncate(seg.size);
      await seg.fh.sync();
      await this.rotateSegment('close', false);
    } catch (err) {
      await seg.fh.close().catch(() => undefined);
      log.warn(
        { dir: this.dir, segment: seg.name, error: (err as Error).message },
        'Left the active segment unindexed after a failed write; the next open recovers it.',
      );
    }
  }

  // --- appending -------------------------------------------------------------------------

  private enqueue(
    records: LogRecord[],
    batchIds: string[],
    lines?: ReadonlyArray<string | undefined>,
  ): Promise<AppendResult> {
    const startedNs = process.hrtime.bigint();
    let encoded: ReturnType<typeof encodeBatch>;
    try {
      encoded = encodeBatch(records, batchIds, lines);
    } catch (err) {
      return Promise.reject(err);
    }
    const [head, payload, crc] = encodeBlock(encoded.meta, encoded.payload);
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({
        buffers: [head, payload],
        crc,
        encoded,
        records: records.length,
        bytes: payload.length,
        startedNs,
        resolve,
        reject,
      });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    // setImmediate lets every append made in this turn of the event loop share one write.
    this.draining = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => {
        this.draining = undefined;
        if (this.queue.length > 0 && !this.failed) this.kick();
      });
  }

  private async flushQueue(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.failed) {
      const taken = this.takeBlocks();
      try {
        if (taken.length === 0) {
          await this.rotateSegment('size', true);
          continue;
        }
        await this.writeBlocks(taken);
      } catch (err) {
        this.fail(err, taken);
        return;
      }
    }
  }

  /** Blocks that fit in the active segment (at least one when the segment is empty). */
  private takeBlocks(): QueuedBlock[] {
    const room = this.options.segmentSizeBytes - this.seg.size;
    const empty = this.seg.size === FILE_HEADER_BYTES;
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length) {
      const b = this.queue[n];
      const len = b.buffers[0].length + b.buffers[1].length;
      if ((bytes + len > room && !(empty && n === 0)) || (n > 0 && bytes + len > MAX_WRITE_BYTES)) {
        break;
      }
      bytes += len;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async writeBlocks(taken: QueuedBlock[]): Promise<void> {
    const seg = this.seg;
    const buffers: Buffer[] = [];
    for (const b of taken) buffers.push(b.buffers[0], b.buffers[1]);
    let total = 0;
    for (const b of buffers) total += b.length;
    let { bytesWritten: at } = await seg.fh.writev(buffers, seg.size);
    if (at < total) {
      // A short write (rare; a signal or a full disk): write the rest from one buffer.
      const data = Buffer.concat(buffers);
      while (at < total) {
        const { bytesWritten } = await seg.fh.write(data, at, total - at, seg.size + at);
        if (bytesWritten === 0) throw new StoreError(`${this.dir}: segment write made no progress`);
        at += bytesWritten;
      }
    }
    let offset = seg.size;
    for (const b of taken) {
      releasePayload(b.buffers[1]);
      seg.stats.addBlock(offset, b.encoded.meta, b.crc);
      seg.stats.addFacts(b.encoded.facts);
      offset += b.buffers[0].length + b.buffers[1].length;
    }
    seg.size = offset;
    let records = 0;
    let bytes = 0;
    for (const b of taken) {
      records += b.records;
      bytes += b.bytes;
    }
    this.appended.records += records;
    this.appended.bytes += bytes;
    this.metrics.records.inc(records);
    this.metrics.bytes.inc(bytes);
    this.metrics.batches.inc(taken.length);
    if (this.failed) {
      // A timed fsync failed while this write ran: its batches cannot be reported durable.
      this.reject(taken);
      return;
    }
    this.unsynced.push(...taken);
    this.unsyncedBytes += bytes;
    const o = this.options;
    // fsyncs run while the next blocks are written (group commit): the writes do not wait
    // for the disk, only the acknowledgements do.
    if (o.fsync === 'always') this.syncBehind();
    else if (o.fsync === 'interval') {
      // At most one fsync per interval: right away after a quiet spell, else when it is due;
      // and one as soon as fsyncIntervalBytes wait.
      const dueInMs = this.lastSyncAt + o.fsyncIntervalMs - Date.now();
      if (dueInMs <= 0 || this.unsyncedBytes >= o.fsyncIntervalBytes) this.syncBehind();
      else this.syncTimer ??= setTimeout(() => this.onSyncTimer(), dueInMs);
    } else if (o.fsync === 'never') {
      this.unsyncedBytes = 0;
      this.settle(this.unsynced.splice(0));
    }
    if (seg.size >= this.options.segmentSizeBytes) await this.rotateSegment('size', true);
  }

  private settle(waiters: Waiter[]): void {
    const now = process.hrtime.bigint();
    for (const w of waiters) {
      this.metrics.appendSeconds.observe(Number(now - w.startedNs) / 1e9);
      w.resolve({ stored: w.records, duplicate: false });
    }
  }

  /**
   * Starts an fsync without waiting for it; while one runs, another starts when it ends (for
   * the blocks written meanwhile). Each sync settles only batches written before it began.
   */
  private syncBehind(): void {
    if (this.syncing) {
      this.syncWanted = true;
      return;
    }
    this.syncWanted = false;
    this.syncNow().then(
      () => {
        if (this.syncWanted && !this.failed) this.syncBehind();
      },
      (err: unknown) => this.fail(err, []),
    );
  }

  // A pending timer keeps the process alive while batches wait for their fsync.
  private onSyncTimer(): void {
    this.syncTimer = undefined;
    this.syncNow().catch((err: unknown) => this.fail(err, []));
  }

  /** fsyncs the active segment and settles every batch written before the sync began. */
  private async syncNow(): Promise<void> {
    while (this.syncing) await this.syncing;
    if (this.unsynced.length === 0) return;
    const waiters = this.unsynced.splice(0);
    this.unsyncedBytes = 0;
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.lastSyncAt = Date.now();
    const fh = this.seg.fh;
    const t0 = process.hrtime.bigint();
    this.syncing = fh.datasync().then(
      () => {
        this.metrics.fsyncSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        this.settle(waiters);
      },
      (err: unknown) => this.fail(err, waiters),
    );
    try {
      await this.syncing;
    } finally {
      this.syncing = undefined;
    }
  }

  private duplicate(): AppendResult {
    this.appended.duplicates++;
    this.metrics.duplicates.inc();
    return { stored: 0, duplicate: true };
  }

  private remember(id: string): void {
    if (this.options.dedupeWindow === 0) return;
    this.ids.set(id, true);
    if (this.ids.size > this.options.dedupeWindow) {
      this.ids.delete(this.ids.keys().next().value as string);
    }
  }

  /** A write or sync failed: nothing after it can be trusted to land, so the writer stops. */
  private fail(err: unknown, waiters: Waiter[]): void {
    this.failed ??= err;
    log.error({ dir: this.dir, error: (err as Error).message }, 'Store write failed.');
    this.reject([...waiters, ...this.unsynced.splice(0), ...this.queue.splice(0)]);
  }

  /** Rejects batches with the error that stopped the writer. */
  private reject(waiters: Waiter[]): void {
    const error = this.failedError();
    for (const w of waiters) w.reject(error);
  }

  private failedError(): StoreError {
    const cause = this.failed as Error;
    return new StoreError(
      `${this.dir}: store writer stopped after a failed write (${cause.message})`,
      {
        cause,
      },
    );
  }

  // --- segments ---------------------------------------------------------------------------

  private async openSegment(seq: number): Promise<void> {
    const name = segmentName(seq);
    const header = fileHeader(0);
    const fh = await fsp.open(join(this.dir, name + DATA_EXT), 'wx');
    await fh.write(header, 0, header.length, 0);
    await fh.sync();
    await syncDir(this.dir);
    this.seg = {
      seq,
      name,
      fh,
      size: FILE_HEADER_BYTES,
      createdAt: Date.now(),
      stats: new SegmentStats(this.options.dedupeWindow, header),
    };
    this.metrics.segments.set(this.closedSegments + 1);
  }

  private async rotateSegment(reason: string, reopen: boolean): Promise<void> {
    const seg = this.seg;
    if (seg.stats.records === 0 && reopen) return;
    await this.syncNow();
    await seg.fh.close();
    const path = join(this.dir, seg.name + DATA_EXT);
    if (seg.stats.blocks === 0) {
      await fsp.unlink(path);
      await syncDir(this.dir);
    } else {
      const index = seg.stats.toIndex({
        segment: seg.name,
        file: seg.name + DATA_EXT,
        state: 'closed',
        compression: 'none',
        createdAt: seg.createdAt,
        closedAt: Date.now(),
        storedBytes: seg.size,
      });
      await writeIndex(this.dir, index);
      this.closedRecords += index.records;
      this.closedBytes += seg.size;
      this.closedSegments++;
      this.metrics.rotations.inc({ reason });
      this.emit('rotate', { segment: seg.name, reason, records: index.records });
      if (this.options.compression === 'gzip') this.compress(seg.name);
    }
    if (reopen) {
      await this.openSegment(seg.seq + 1);
      void this.runRetention();
    }
  }

  private compress(segment: string): void {
    this.compressor.enqueue(segment).then(
      (r) => {
        if (!r) return;
        this.closedBytes += r.storedBytes - r.previousBytes;
        this.emit('compressed', r);
      },
      (err: unknown) =>
        log.error({ segment, error: (err as Error).message }, 'Compression failed.'),
    );
  }

  private busySegments(): Set<string> {
    return new Set([this.seg.name, ...this.compressor.pending()]);
  }

  private runRetention(): Promise<RetentionPlan> {
    if (this.retentionRun) return this.retentionRun;
    const run = async () => {
      const segments = await listSegments(this.dir);
      const plan = planRetention(segments, this.options, Date.now(), this.busySegments());
      await applyRetention(this.dir, plan);
      for (const r of plan.remove) {
        this.closedRecords -= r.records;
        this.closedBytes -= r.bytes;
        this.closedSegments--;
      }
      if (plan.remove.length > 0) this.emit('purge', plan);
      return plan;
    };
    this.retentionRun = run().finally(() => (this.retentionRun = undefined));
    return this.retentionRun;
  }

  private startTimers(): void {
    const o = this.options;
    const ageCheckMs = Math.min(1000, o.segmentAgeMs);
    this.timers.push(
      setInterval(() => {
        if (this.closing || this.failed || this.seg.stats.records === 0) return;
        if (Date.now() - this.seg.createdAt < o.segmentAgeMs) return;
        void this.serial(() => this.rotateSegment('age', true)).catch((err: unknown) =>
          this.fail(err, []),
        );
      }, ageCheckMs),
    );
    if (
      o.retainAgeMs !== undefined ||
      o.retainSizeBytes !== undefined ||
      o.retainSegments !== undefined
    ) {
      this.timers.push(
        setInterval(() => void this.runRetention().catch(() => undefined), o.retentionIntervalMs),
      );
    }
    for (const t of this.timers) t.unref();
  }

  /** Runs a segment operation while no drain is in progress (the drain owns the segment). */
  private async serial(op: () => Promise<void>): Promise<void> {
    while (this.draining) await this.draining;
    // No await between the check above and taking the gate, so no drain can start between.
    const gate = op();
    this.draining = gate.catch(() => undefined);
    try {
      await gate;
    } finally {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
    }
  }
}

/** Opens a store folder for writing (creating it), recovering it first after a crash. */
export function openStoreWriter(dir: string, opts?: StoreOptions): Promise<StoreWriter> {
  return StoreWriter.open(dir, opts);
}
