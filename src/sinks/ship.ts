// The ship sink: re-batches records (by count, bytes or wait, whichever first), encodes each
// batch as NDJSON, compresses it (fixed codec or the `auto` controller), gives it a sequence,
// puts it in the spool and sends it to the collector through the frame client. An input
// batch's acknowledgement settles when its records are safe: on the collector's ack, or, with
// a disk spool, once the batch is fsynced in the spool (the spool then owns delivery; this is
// what lets a killed shipper restart without sending anything twice).

import * as net from 'node:net';
import hdr from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';
import type { Acknowledgement, Batch } from '../record/batch.js';
import type { LogRecord } from '../record/record.js';
import { encodeNdjson } from './ndjson.js';
import { compress, compressSync, type Codec } from '../codec/codec.js';
import { AutoController, type Setting } from '../codec/auto.js';
import {
  FrameClient,
  tcpConnector,
  type AckInfo,
  type Connector,
  type OutgoingBatch,
} from '../net/frame-client.js';
import { Spool, type SpoolEntry, type WhenFull } from './spool.js';
import type { CheckpointPosition, FileBatch } from '../sources/file/options.js';
import { counter, gauge, histogram } from '../telemetry/metrics.js';
import { componentLogger } from '../telemetry/logger.js';

export type ShipProtocol = 'sluice' | 'ndjson';

export interface ShipperOptions {
  host: string;
  port: number;
  /** Opens the connection; default plain TCP. Pass a TLS connector for tls://. */
  connector?: Connector;
  protocol?: ShipProtocol;
  /** Stream name sent in the hello; part of every batch identity. */
  source?: string;
  batchRecords?: number;
  batchBytes?: number;
  batchWaitMs?: number;
  compress?: Codec | 'auto';
  level?: number;
  window?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  ackTimeoutMs?: number;
  pingIntervalMs?: number;
  spoolDir?: string;
  spoolMaxBytes?: number;
  whenFull?: WhenFull;
  /** Period of the auto controller. */
  autoPeriodMs?: number;
}

export interface ShipperStatus {
  connected: boolean;
  codec: Codec;
  level: number;
  recordsSent: number;
  recordsAcked: number;
  batchesSent: number;
  batchesAcked: number;
  duplicates: number;
  /** Batches sent again after a lost connection. */
  retries: number;
  /** Reconnect attempts scheduled: failed connects and lost connections. */
  reconnects: number;
  rawBytes: number;
  wireBytes: number;
  droppedRecords: number;
  spoolBatches: number;
  spoolBytes: number;
  /** Seconds the oldest unacknowledged batch has waited (0 when none). */
  oldestUnackedSeconds: number;
  /** Percentiles of the ack round trip, in ms (undefined before the first ack). */
  rttP50Ms?: number;
  rttP99Ms?: number;
  lastError?: string;
}

export interface Shipper {
  readonly shipperId: string;
  /** Accepts a batch; resolves when the shipper can take more (back-pressure). */
  write(batch: Batch): Promise<void>;
  /** Sends what is buffered and resolves when everything is acknowledged. */
  flush(): Promise<void>;
  close(): Promise<void>;
  status(): ShipperStatus;
  /**
   * With a disk spool: per input file, the furthest position of the batches the spool took
   * (held or acknowledged). Merge into the tailer's checkpoints before it starts.
   */
  spooledPositions(): CheckpointPosition[];
  /** Called with each change of the auto codec setting and its reason. */
  onCodecChange?: (from: Setting, to: Setting, reason: string) => void;
  /** Bytes of input not read yet (files' bytes behind their ends), for the auto rule. */
  inputBehindBytes?: () => number;
}

/** With auto, one batch in this many is compressed on the main thread to measure its cost. */
const AUTO_SAMPLE_EVERY = 8;

/** Batches a writer may leave being compressed and spooled before write() makes it wait. */
const MAX_CUTS_IN_HAND = 4;

/**
 * Input lag that counts as fully behind for the auto rule: half of it (32 MiB, a fraction of a
 * second of reading at full speed) means the shipper is not keeping up with its files.
 */
const INPUT_BEHIND_BOUND_BYTES = 64 << 20;

const m = {
  recordsSent: counter('sluice_ship_records_sent_total', 'Records sent to the collector.'),
  recordsAcked: counter(
    'sluice_ship_records_acked_total',
    'Records acknowledged by the collector.',
  ),
  batchesSent: counter('sluice_ship_batches_sent_total', 'Batches sent (first sends only).'),
  batchesAcked: counter('sluice_ship_batches_acked_total', 'Batches acknowledged.'),
  duplicates: counter(
    'sluice_ship_duplicate_acks_total',
    'Batches the collector acknowledged as repeats it already stored.',
  ),
  retries: counter('sluice_ship_retries_total', 'Batches sent again after a lost connection.'),
  reconnects: counter(
    'sluice_ship_reconnects_total',
    'Reconnect attempts scheduled (failed connects and lost connections).',
  ),
  rawBytes: counter('sluice_ship_raw_bytes_total', 'NDJSON bytes of batches, before compression.'),
  wireBytes: counter('sluice_ship_compressed_bytes_total', 'Payload bytes after compression.'),
  dropped: counter('sluice_ship_dropped_records_total', 'Records dropped, by reason.', ['reason']),
  ratio: gauge('sluice_ship_compression_ratio', 'Raw bytes / compressed bytes so far.'),
  codec: gauge('sluice_ship_codec_info', 'The codec and level in use (value 1).', [
    'codec',
    'level',
  ]),
  connected: gauge('sluice_ship_connected', '1 when connected to the collector.'),
  spoolBatches: gauge('sluice_ship_spool_batches', 'Batches waiting for an ack.'),
  spoolBytes: gauge('sluice_ship_spool_bytes', 'Bytes of batches waiting for an ack.'),
  rtt: histogram(
    'sluice_ship_rtt_seconds',
    'Time from sending a batch to its ack (includes the collector making it durable).',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ),
};

interface Pending {
  records: LogRecord[];
  bytes: number;
  acks: Acknowledgement[];
  /** Furthest position per input file (key dev:ino) of the records taken. */
  positions: Map<string, CheckpointPosition>;
}

function emptyPending(): Pending {
  return { records: [], bytes: 0, acks: [], positions: new Map() };
}

/** Something that sends spool entries and resolves when each is acknowledged. */
interface Transport {
  send(entry: OutgoingBatch): Promise<AckInfo>;
  cancel(sequence: number): boolean;
  start(): void;
  stop(): Promise<void>;
  readonly connected: boolean;
  readonly lastError?: string;
}

export function createShipper(options: ShipperOptions): Shipper {
  return new ShipperImpl(options);
}

class ShipperImpl implements Shipper {
  private readonly log = componentLogger('ship');
  private readonly spool: Spool;
  private readonly transport: Transport;
  private readonly auto?: AutoController;
  private setting: Setting;
  private pending: Pending = emptyPending();
  private timer?: NodeJS.Timeout;
  /** Cuts run one after another, in order, so sequences follow input order. */
  private chain: Promise<void> = Promise.resolve();
  /** Batches cut and not yet spooled (encoding, compressing or being written to disk). */
  private cutsInHand = 0;
  /** The error that stopped the chain: every later write rejects with it. */
  private chainError?: Error;
  /** With auto: the last measured compression time per raw byte, by setting. */
  private readonly autoCost = new Map<string, number>();
  private autoBatches = 0;
  /** Acks of input batches waiting on a collector ack (memory spool). */
  private readonly waitingAcks = new Map<number, Acknowledgement[]>();
  private readonly inTransit = new Set<Promise<void>>();
  /** Ack round trips in microseconds, for the status line's percentiles. */
  private readonly rtt = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3.6e9 });
  private readonly counts = {
    recordsSent: 0,
    recordsAcked: 0,
    batchesSent: 0,
    batchesAcked: 0,
    duplicates: 0,
    retries: 0,
    reconnects: 0,
    rawBytes: 0,
    wireBytes: 0,
    dropped: 0,
  };
  private readonly opts: Required<Omit<ShipperOptions, 'spoolDir' | 'connector'>>;
  onCodecChange?: (from: Setting, to: Setting, reason: string) => void;
  inputBehindBytes?: () => number;

  constructor(options: ShipperOptions) {
    this.opts = {
      protocol: 'sluice',
      source: 'default',
      batchRecords: 1000,
      batchBytes: 1 << 20,
      batchWaitMs: 1000,
      compress: 'gzip',
      level: 6,
      window: 32,
      backoffInitialMs: 250,
      backoffMaxMs: 30_000,
      ackTimeoutMs: 30_000,
      pingIntervalMs: 5_000,
      spoolMaxBytes: options.spoolDir ? 1 << 30 : 256 << 20,
      whenFull: 'block',
      autoPeriodMs: 1_000,
      ...stripUndefined(options),
      host: options.host,
      port: options.port,
    };
    const ndjson = this.opts.protocol === 'ndjson';
    if (this.opts.compress === 'auto' && !ndjson) {
      this.auto = new AutoController({ periodMs: this.opts.autoPeriodMs });
      this.setting = this.auto.current;
    } else {
      const codec = ndjson ? 'none' : (this.opts.compress as Codec);
      this.setting = { codec, level: codec === 'none' ? 0 : this.opts.level };
    }
    m.codec.set({ codec: this.setting.codec, level: String(this.setting.level) }, 1);
    this.spool = new Spool({
      dir: options.spoolDir,
      maxBytes: this.opts.spoolMaxBytes,
      whenFull: this.opts.whenFull,
      onDrop: (e) => this.onDrop(e),
    });
    this.transport = ndjson
      ? new NdjsonTransport(options, () => this.countReconnect())
      : this.frameTransport(options);
    this.transport.start();
    if (this.spool.corrupt.length > 0) {
      this.log.warn({ files: this.spool.corrupt }, 'Unreadable spool files moved aside.');
    }
    if (this.spool.recovered.length > 0) {
      this.log.info({ batches: this.spool.recovered.length }, 'Resending batches from the spool.');
      for (const entry of this.spool.recovered) this.dispatch(entry);
    }
    this.updateSpoolGauges();
  }

  get shipperId(): string {
    return this.spool.shipperId;
  }

  private frameTransport(options: ShipperOptions): Transport {
    const client = new FrameClient({
      host: options.host,
      port: options.port,
      connector: options.connector ?? tcpConnector,
      shipperId: this.spool.shipperId,
      source: this.opts.source,
      window: this.opts.window,
      backoff: { initialMs: this.opts.backoffInitialMs, maxMs: this.opts.backoffMaxMs },
      ackTimeoutMs: this.opts.ackTimeoutMs,
      pingIntervalMs: this.opts.pingIntervalMs,
    });
    client.on('connected', () => {
      m.connected.set(1);
      this.log.info({ to: `${options.host}:${options.port}` }, 'Connected to the collector.');
    });
    client.on('disconnected', (reason) => {
      m.connected.set(0);
      this.log.warn({ reason }, 'Lost the collector; reconnecting with backoff.');
    });
    client.on('reconnecting', () => this.countReconnect());
    client.on('retry', () => {
      this.counts.retries++;
      m.retries.inc();
    });
    return client;
  }

  private countReconnect(): void {
    this.counts.reconnects++;
    m.reconnects.inc();
  }

  write(batch: Batch): Promise<void> {
    if (this.chainError) return Promise.reject(this.chainError);
    const p = this.pending;
    for (const r of batch.records) p.records.push(r);
    p.bytes += batch.bytes;
    p.acks.push(batch.ack);
    for (const pos of (batch as FileBatch).positions ?? []) {
      p.positions.set(`${pos.dev}:${pos.ino}`, pos);
    }
    if (p.records.length >= this.opts.batchRecords || p.bytes >= this.opts.batchBytes) {
      // The caller goes on reading while a few batches are compressed and spooled (an fsync
      // or two each): waiting for every one made the source idle for that time, and the
      // spool's fsyncs alone capped a shipper near 100 batches a second.
      const spooled = this.cut();
      return this.cutsInHand > MAX_CUTS_IN_HAND ? spooled : Promise.resolve();
    }
    if (!this.timer && p.records.length > 0) {
      this.timer = setTimeout(() => void this.cut(), this.opts.batchWaitMs);
    }
    if (p.records.length === 0) return this.cut();
    return Promise.resolve();
  }

  /** Closes the pending batch and queues its encoding; resolves when it is spooled. */
  private cut(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const taken = this.pending;
    this.pending = emptyPending();
    if (taken.records.length === 0 && taken.acks.length === 0) return this.chain;
    this.cutsInHand++;
    this.chain = this.chain
      .then(() => this.spoolBatch(taken))
      .catch((err: unknown) => {
        this.chainError ??= err as Error;
        throw err;
      })
      .finally(() => this.cutsInHand--);
    // Whoever does not wait for this batch learns of a failure from the next write.
    this.chain.catch(() => {});
    return this.chain;
  }

  private async spoolBatch(taken: Pending): Promise<void> {
    if (taken.records.length === 0) {
      for (const a of taken.acks) a.delivered(); // nothing to send: delivered by policy
      return;
    }
    const raw = encodePayload(taken.records);
    this.chooseSetting();
    const { codec, level } = this.setting;
    const payload = await this.compressBatch(raw, codec, level);
    const entry: SpoolEntry = {
      sequence: this.spool.nextSequence(),
      codec,
      payload,
      uncompressedBytes: raw.length,
      records: taken.records.length,
      createdAt: Date.now(),
      positions: taken.positions.size > 0 ? [...taken.positions.values()] : undefined,
    };
    await this.spool.put(entry);
    this.counts.rawBytes += raw.length;
    this.counts.wireBytes += payload.length;
    m.rawBytes.inc(raw.length);
    m.wireBytes.inc(payload.length);
    m.ratio.set(this.counts.rawBytes / Math.max(1, this.counts.wireBytes));
    if (this.spool.dir) for (const a of taken.acks) a.delivered();
    else this.waitingAcks.set(entry.sequence, taken.acks);
    this.updateSpoolGauges();
    this.dispatch(entry);
  }

  /**
   * Compresses on zlib's thread pool. With auto, one batch in AUTO_SAMPLE_EVERY (and the first
   * at each new setting) is compressed on this thread instead, so that its time is the
   * compression's own and not the wait for a busy event loop; the others are charged at the
   * cost per byte last measured. Compressing every batch here blocked the shipper's loop and
   * cost auto a third of the fixed settings' throughput.
   */
  private async compressBatch(raw: Buffer, codec: Codec, level: number): Promise<Buffer> {
    if (!this.auto) return compress(raw, codec, level);
    const key = `${codec}-${level}`;
    const msPerByte = this.autoCost.get(key);
    if (msPerByte === undefined || this.autoBatches++ % AUTO_SAMPLE_EVERY === 0) {
      const started = performance.now();
      const payload = compressSync(raw, codec, level);
      const ms = performance.now() - started;
      this.autoCost.set(key, ms / Math.max(1, raw.length));
      this.auto.observe({ rawBytes: raw.length, compressMs: ms });
      return payload;
    }
    this.auto.observe({ rawBytes: raw.length, compressMs: msPerByte * raw.length });
    return compress(raw, codec, level);
  }

  private chooseSetting(): void {
    if (!this.auto) return;
    const backlog = this.spool.bytes / this.opts.spoolMaxBytes;
    const inFlightShare = this.transport instanceof FrameClient ? this.transport.pending : 0;
    const behind = Math.max(backlog, inFlightShare / (this.opts.window * 4));
    const input = (this.inputBehindBytes?.() ?? 0) / INPUT_BEHIND_BOUND_BYTES;
    const decision = this.auto.evaluate(Math.min(1, behind), Math.min(1, input));
    if (!decision) return;
    m.codec.reset();
    m.codec.set({ codec: decision.codec, level: String(decision.level) }, 1);
    this.log.info(
      { from: describe(decision.from), to: describe(decision), reason: decision.reason },
      'Compression setting changed.',
    );
    this.onCodecChange?.(decision.from, decision, decision.reason);
    this.setting = { codec: decision.codec, level: decision.level };
  }

  /** Hands an entry to the transport and frees it on ack. */
  private dispatch(entry: SpoolEntry): void {
    this.counts.batchesSent++;
    this.counts.recordsSent += entry.records;
    m.batchesSent.inc();
    m.recordsSent.inc(entry.records);
    const done = this.transport.send(entry).then((ack) => this.onAck(entry, ack));
    this.inTransit.add(done);
    void done.finally(() => this.inTransit.delete(done));
  }

  private async onAck(entry: SpoolEntry, ack: AckInfo): Promise<void> {
    if (!this.spool.has(entry.sequence)) return; // dropped meanwhile
    await this.spool.remove(entry.sequence);
    this.counts.batchesAcked++;
    this.counts.recordsAcked += entry.records;
    m.batchesAcked.inc();
    m.recordsAcked.inc(entry.records);
    m.rtt.observe(ack.rttSeconds);
    this.rtt.recordValue(Math.max(1, Math.round(ack.rttSeconds * 1e6)));
    if (ack.duplicate) {
      this.counts.duplicates++;
      m.duplicates.inc();
    }
    for (const a of this.waitingAcks.get(entry.sequence) ?? []) a.delivered();
    this.waitingAcks.delete(entry.sequence);
    this.updateSpoolGauges();
  }

  private onDrop(entry: SpoolEntry): void {
    this.transport.cancel(entry.sequence);
    this.counts.dropped += entry.records;
    m.dropped.inc({ reason: 'spool_full' }, entry.records);
    this.log.warn(
      { sequence: entry.sequence, records: entry.records },
      'Spool full: dropped the oldest batch.',
    );
    for (const a of this.waitingAcks.get(entry.sequence) ?? [])
      a.settle({
        status: 'dropped',
        reason: 'spool full (drop-oldest)',
      });
    this.waitingAcks.delete(entry.sequence);
    this.updateSpoolGauges();
  }

  private updateSpoolGauges(): void {
    m.spoolBatches.set(this.spool.depth);
    m.spoolBytes.set(this.spool.bytes);
  }

  async flush(): Promise<void> {
    await this.cut();
    while (this.inTransit.size > 0) await Promise.all([...this.inTransit]);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.transport.stop();
    this.spool.close();
    m.connected.set(0);
  }

  spooledPositions(): CheckpointPosition[] {
    return this.spool.spooledPositions();
  }

  status(): ShipperStatus {
    const oldest = this.spool.oldestCreatedAt;
    return {
      ...this.counts,
      connected: this.transport.connected,
      codec: this.setting.codec,
      level: this.setting.level,
      droppedRecords: this.counts.dropped,
      spoolBatches: this.spool.depth,
      spoolBytes: this.spool.bytes,
      oldestUnackedSeconds: oldest === undefined ? 0 : (Date.now() - oldest) / 1000,
      rttP50Ms: this.rtt.totalCount ? this.rtt.getValueAtPercentile(50) / 1000 : undefined,
      rttP99Ms: this.rtt.totalCount ? this.rtt.getValueAtPercentile(99) / 1000 : undefined,
      lastError: this.transport.lastError,
    };
  }
}

function encodePayload(records: LogRecord[]): Buffer {
  return encodeNdjson(records);
}

function describe(s: Setting): string {
  return s.codec === 'none' ? 'none' : `${s.codec}-${s.level}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Plain NDJSON over TCP for receivers that speak only lines: no acks exist, so a batch counts
 * as delivered once the kernel took its bytes; on a lost connection the batches not yet
 * written are sent after reconnecting (at-most-once for bytes in the socket buffer).
 */
class NdjsonTransport implements Transport {
  private socket?: net.Socket;
  private readonly queue: Array<{ entry: OutgoingBatch; resolve: (a: AckInfo) => void }> = [];
  private stopped = false;
  private attempt = 0;
  private writing = false;
  lastError?: string;

  constructor(
    private readonly options: ShipperOptions,
    private readonly onReconnect: () => void,
  ) {}

  get connected(): boolean {
    return this.socket !== undefined;
  }

  start(): void {
    void this.connect();
  }

  send(entry: OutgoingBatch): Promise<AckInfo> {
    return new Promise((resolve) => {
      this.queue.push({ entry, resolve });
      void this.pump();
    });
  }

  cancel(sequence: number): boolean {
    const i = this.queue.findIndex((q) => q.entry.sequence === sequence);
    if (i >= 0) this.queue.splice(i, 1);
    return i >= 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.socket?.end();
    this.socket = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const connector = this.options.connector ?? tcpConnector;
    try {
      const socket = (await connector(this.options.host, this.options.port)) as net.Socket;
      this.socket = socket;
      this.attempt = 0;
      this.lastError = undefined;
      const lost = (reason: string) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.retryLater(reason);
      };
      socket.on('error', (err) => lost(err.message));
      socket.on('close', () => lost('connection closed'));
      socket.on('data', () => {}); // a line receiver may answer; nothing to read
      void this.pump();
    } catch (err) {
      this.retryLater((err as Error).message);
    }
  }

  private retryLater(reason: string): void {
    if (this.stopped) return;
    this.lastError = reason;
    this.onReconnect();
    const ceiling = Math.min(
      this.options.backoffMaxMs ?? 30_000,
      (this.options.backoffInitialMs ?? 250) * 2 ** Math.min(this.attempt++, 30),
    );
    setTimeout(() => void this.connect(), Math.max(50, Math.random() * ceiling));
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.socket && this.queue.length > 0) {
        const socket = this.socket;
        const item = this.queue[0];
        const started = process.hrtime.bigint();
        const ok = await new Promise<boolean>((resolve) =>
          socket.write(item.entry.payload, (err) => resolve(!err)),
        );
        if (!ok) break;
        this.queue.shift();
        const rtt = Number(process.hrtime.bigint() - started) / 1e9;
        item.resolve({
          sequence: item.entry.sequence,
          duplicate: false,
          stored: 0,
          rttSeconds: rtt,
        });
      }
    } finally {
      this.writing = false;
    }
  }
}
