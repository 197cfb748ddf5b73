// The tcp source: one client connection of the collector. It detects the connection's framing
// from its first bytes, splits frames, decodes them into records, applies the level filter and
// the client's rate limit, and hands records to the store queue. Back-pressure is by pausing
// the socket: while too many of this client's records wait for the store, or while the client
// owes rate-limit tokens (--rate-action slow), nothing more is read from it, and TCP flow
// control slows the sender. Limits broken (line size, idle time, bad bytes) end the connection
// with an error line where the framing allows one, a log line with the address and a counter.

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ProtocolError } from '../errors.js';
import {
  detectFraming,
  type AppendResult,
  type BuiltinFraming,
  type ProtocolContext,
  type ProtocolHandler,
} from '../framing/detect.js';
import type { LogRecord } from '../record/record.js';
import type { CollectorMetrics } from '../net/collector-metrics.js';
import type { BatchOwner, RecordBatcher, StoreQueue } from '../net/store-queue.js';
import type { LevelFilter } from '../transforms/level-filter.js';
import type { RateLimiter } from '../transforms/rate-limit.js';

/** A frame as bytes: buf[start, end), its terminator already removed. */
export type ByteFrameSink = (buf: Buffer, start: number, end: number) => void;

/**
 * Splits a byte stream into frames, decoded as UTF-8; throws ProtocolError on a broken limit.
 * With `onBytes` (given when the decoder reads bytes), a framer may hand a frame over as its
 * bytes instead of its text; decoded as UTF-8 they must be the text it would have passed on.
 */
export interface StreamFramer {
  push(chunk: Buffer, onFrame: (frame: string) => void, onBytes?: ByteFrameSink): void;
  end(onFrame: (frame: string) => void): void;
}

/**
 * Turns one frame into records (usually one; a held container partial gives none). With
 * `lines`, a decoder that knows a record's exact encoding (an NDJSON line that already is a
 * record) sets lines[i] for the record it pushed at out[i]; other entries stay unset.
 * `bytes`, when present, decodes a frame given as bytes (the same records as for its text).
 */
export type FrameDecoder = ((
  frame: string,
  out: LogRecord[],
  lines?: Array<string | undefined>,
) => void) & {
  bytes?: (
    buf: Buffer,
    start: number,
    end: number,
    out: LogRecord[],
    lines: Array<string | undefined>,
  ) => void;
};

/** Settings read afresh for every chunk, so a SIGHUP reload reaches open connections. */
export interface ConnectionSettings {
  maxLineBytes: number;
  idleTimeoutMs: number;
  rateAction: 'slow' | 'drop';
  levelFilter: LevelFilter;
  rateLimiter: RateLimiter;
  /** Records of one client waiting for the store before its socket is paused. */
  maxPendingRecords: number;
}

export interface ConnectionDeps {
  settings: () => ConnectionSettings;
  queue: StoreQueue;
  /** Gathers the records of all connections read in one event-loop turn into one append. */
  batcher: RecordBatcher;
  metrics: CollectorMetrics;
  logger: Logger;
  framerFor: (framing: BuiltinFraming, maxLineBytes: number) => StreamFramer;
  decoderFor: (framing: BuiltinFraming, peer: string) => FrameDecoder;
  onStored: (records: number) => void;
  /** Records decoded from a client address (before filtering). */
  onReceived: (address: string, records: number) => void;
  onDropped: (reason: string, records: number, address: string) => void;
}

/** First bytes kept while the framing is undecided; more than this and we decide anyway. */
const DETECT_BYTES = 64;
/** Framings where the client may read a JSON error line before we hang up. */
const ERROR_LINE_FRAMINGS = new Set<string>(['ndjson', 'text', 'undetected']);

type PauseReason = 'store' | 'backlog' | 'rate';

export class TcpConnection implements BatchOwner {
  records = 0;
  bytes = 0;
  stored = 0;
  dropped = 0;
  framing = 'undetected';
  closeReason = 'client_closed';
  readonly openedMs = Date.now();
  /** Resolves when the socket is closed and every record it gave is settled. */
  readonly finished: Promise<void>;

  private detectBuf: Buffer = Buffer.alloc(0);
  private framer?: StreamFramer;
  private decode?: FrameDecoder;
  private readonly pauses = new Set<PauseReason>();
  private pendingRecords = 0;
  private pendingAppends = 0;
  /** Records decoded from the current read; reused, the batcher copies what it keeps. */
  private readonly scratch: LogRecord[] = [];
  /** Their encoded lines where the decoder knew them (sparse, aligned with scratch). */
  private readonly scratchLines: Array<string | undefined> = [];
  private closing = false;
  private storeError = false;
  private draining = false;
  private socketClosed = false;
  private settleFinished!: () => void;
  private rateTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: Socket,
    readonly peer: string,
    readonly remoteAddress: string,
    private readonly deps: ConnectionDeps,
  ) {
    this.finished = new Promise((r) => (this.settleFinished = r));
  }

  start(): void {
    const s = this.socket;
    s.setNoDelay(true);
    this.armIdleTimer();
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('timeout', this.onTimeout);
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.closing) this.closeReason = `socket_error:${err.code ?? err.message}`;
    });
    s.on('close', () => {
      this.socketClosed = true;
      if (this.rateTimer) clearTimeout(this.rateTimer);
      this.maybeFinished();
    });
  }

  /** Graceful shutdown: keep reading what the client sent; hang up once it goes quiet. */
  drain(quietMs: number): void {
    this.draining = true;
    this.resumeFor('rate');
    if (this.socketClosed || this.closing) return;
    this.socket.setTimeout(quietMs);
  }

  /** Ends the connection now (drain deadline passed). */
  destroy(reason: string): void {
    if (this.socketClosed) return;
    this.closing = true;
    this.closeReason = reason;
    this.socket.destroy();
  }

  /** Logs, counts and ends the connection for a broken limit or protocol violation. */
  reject(reason: string, detail: string): void {
    if (this.closing) return;
    this.closing = true;
    this.closeReason = reason;
    this.deps.metrics.rejectedConnections.inc({ reason });
    this.deps.logger.warn(
      { peer: this.peer, framing: this.framing, reason, detail },
      'Client connection cut off.',
    );
    const s = this.socket;
    s.off('data', this.onData);
    if (ERROR_LINE_FRAMINGS.has(this.framing) && s.writable) {
      s.write(JSON.stringify({ error: reason, detail }) + '\n');
    }
    s.end();
    // Unread input (a 10 MB line still arriving) would hold a graceful close open: reset.
    setTimeout(() => s.destroy(), 200).unref();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closing) return;
    this.bytes += chunk.length;
    this.deps.metrics.receivedBytes.inc(chunk.length);
    if (!this.framer) {
      this.detect(chunk, false);
      return;
    }
    this.feed(chunk);
  };

  private readonly onEnd = (): void => {
    if (this.closing) return;
    if (!this.framer && this.detectBuf.length > 0) {
      this.detect(Buffer.alloc(0), true);
      if (this.closing || !this.framer) return;
    }
    const batch = this.scratch;
    try {
      this.framer?.end(this.onFrame);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.deps.logger.warn(
        { peer: this.peer, framing: this.framing, detail: err.message },
        'Client closed inside a frame; the partial frame is not stored.',
      );
      this.drop('truncated_frame', 1);
    }
    this.admit(batch);
    this.closing = true;
    this.socket.end();
  };

  private readonly onTimeout = (): void => {
    if (this.closing) return;
    if (this.draining) {
      // Quiet during shutdown: say goodbye (FIN) but keep reading until the client closes
      // too, so nothing it sent in the meantime is lost; the drain deadline bounds this.
      this.closeReason = 'drained';
      this.socket.end();
      return;
    }
    // A socket we paused is quiet because of us, not the client.
    if (this.pauses.size > 0) return;
    const ms = this.deps.settings().idleTimeoutMs;
    this.reject('idle_timeout', `no bytes for ${ms} ms`);
  };

  private detect(chunk: Buffer, final: boolean): void {
    this.detectBuf = this.detectBuf.length === 0 ? chunk : Buffer.concat([this.detectBuf, chunk]);
    const d = detectFraming(this.detectBuf, final || this.detectBuf.length >= DETECT_BYTES);
    if (d.kind === 'more') return;
    if (d.kind === 'reject') {
      this.reject('unrecognized_framing', `no framing accepts these bytes (${d.reason})`);
      return;
    }
    this.deps.metrics.connectionsTotal.inc({
      framing: d.kind === 'protocol' ? d.protocol.name : d.framing,
    });
    if (d.kind === 'protocol') {
      this.handOver(d.protocol);
      return;
    }
    const first = this.detectBuf;
    this.detectBuf = Buffer.alloc(0);
    this.framing = d.framing;
    const settings = this.deps.settings();
    this.framer = this.deps.framerFor(d.framing, settings.maxLineBytes);
    this.decode = this.deps.decoderFor(d.framing, this.peer);
    this.feed(first);
  }

  /**
   * Frames and decodes a whole read at once into the scratch array, then admits the records
   * as one batch: no promise or closure per record or per frame.
   */
  private feed(chunk: Buffer): void {
    try {
      const bytes = (this.decode as FrameDecoder).bytes ? this.onBytes : undefined;
      (this.framer as StreamFramer).push(chunk, this.onFrame, bytes);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.admit(this.scratch);
      const tooLong = /limit/.test(err.message);
      this.reject(tooLong ? 'line_too_long' : 'protocol_error', err.message);
      return;
    }
    this.admit(this.scratch);
  }

  private readonly onFrame = (frame: string): void => {
    (this.decode as FrameDecoder)(frame, this.scratch, this.scratchLines);
  };

  private readonly onBytes = (buf: Buffer, start: number, end: number): void => {
    const bytes = (this.decode as FrameDecoder).bytes;
    if (bytes) bytes(buf, start, end, this.scratch, this.scratchLines);
  };

  /** Level filter, rate limit, then the batcher; empties `records` (the scratch array). */
  private admit(records: LogRecord[]): void {
    const n = records.length;
    if (n === 0) return;
    this.records += n;
    this.deps.metrics.receivedRecords.inc(n);
    this.deps.onReceived(this.remoteAddress, n);
    const { kept, prefix } = this.filterRecords(records);
    const lines = this.scratchLines;
    if (kept.length > 0) this.enqueue(kept, prefix && lines.length > 0 ? lines : undefined);
    records.length = 0;
    lines.length = 0;
  }

  /** Hands records to the shared batcher; settled() hears when they are durable. */
  private enqueue(records: LogRecord[], lines?: Array<string | undefined>): void {
    this.pendingRecords += records.length;
    this.checkBacklog();
    this.deps.batcher.add(this, records, lines);
  }

  settled(count: number, stored: number, err?: unknown): void {
    this.pendingRecords -= count;
    if (err !== undefined) this.storeFailed(err);
    else {
      this.stored += stored;
      this.deps.onStored(stored);
    }
    if (this.pendingRecords <= this.deps.settings().maxPendingRecords / 2) this.resumeFor('store');
    this.maybeFinished();
  }

  /** Pauses reading while this client's or everyone's records wait for the store. */
  private checkBacklog(): void {
    if (this.pendingRecords > this.deps.settings().maxPendingRecords) this.pauseFor('store');
    const queue = this.deps.queue;
    if (queue.overHighWater && !this.pauses.has('backlog')) {
      this.pauseFor('backlog');
      queue.onLowWater(() => this.resumeFor('backlog'));
    }
  }

  private storeFailed(err: unknown): void {
    if (this.storeError) return;
    this.storeError = true;
    this.deps.logger.error(
      { peer: this.peer, err: err instanceof Error ? err.message : String(err) },
      'Store append failed; closing the client connection.',
    );
    this.destroy('store_error');
  }

  /** Applies the level filter and the rate limit; pauses the socket when the client owes. */
  filter(records: LogRecord[]): LogRecord[] {
    return this.filterRecords(records).kept;
  }

  /** The same, also saying whether what is kept is a prefix of `records` (lines stay aligned). */
  private filterRecords(records: LogRecord[]): { kept: LogRecord[]; prefix: boolean } {
    const settings = this.deps.settings();
    const { kept, dropped } = settings.levelFilter.filter(records);
    if (dropped > 0) this.drop('below_min_level', dropped);
    const prefix = dropped === 0;
    if (kept.length === 0 || this.draining) return { kept, prefix };
    const policy = settings.rateAction;
    const grant = settings.rateLimiter.take(this.remoteAddress, kept.length, policy);
    if (grant.granted < kept.length) {
      this.drop('rate_limited', kept.length - grant.granted);
      return { kept: kept.slice(0, grant.granted), prefix };
    }
    if (grant.waitMs > 0) this.pauseForRate(grant.waitMs);
    return { kept, prefix };
  }

  private drop(reason: string, n: number): void {
    this.dropped += n;
    this.deps.onDropped(reason, n, this.remoteAddress);
  }

  private pauseForRate(waitMs: number): void {
    this.deps.metrics.rateLimitWaitsTotal.inc();
    this.pauseFor('rate');
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = setTimeout(() => this.resumeFor('rate'), waitMs);
  }

  /**
   * Appends one batch of a protocol handler directly (it may carry a batchId for dedupe);
   * resolves once durable.
   */
  store(records: LogRecord[], batchId?: string): Promise<AppendResult> {
    const n = records.length;
    this.pendingRecords += n;
    this.pendingAppends++;
    this.checkBacklog();
    const done = this.deps.queue.append(records, { batchId });
    done
      .then(
        (result) => {
          this.stored += result.stored;
          this.deps.onStored(result.stored);
        },
        (err: unknown) => this.storeFailed(err),
      )
      .finally(() => {
        this.pendingRecords -= n;
        this.pendingAppends--;
        if (this.pendingRecords <= this.deps.settings().maxPendingRecords / 2) {
          this.resumeFor('store');
        }
        this.maybeFinished();
      });
    return done;
  }

  private pauseFor(reason: PauseReason): void {
    if (this.pauses.size === 0) this.socket.pause();
    this.pauses.add(reason);
  }

  private resumeFor(reason: PauseReason): void {
    if (!this.pauses.delete(reason) || this.pauses.size > 0 || this.closing) return;
    this.socket.resume();
    this.armIdleTimer();
  }

  private armIdleTimer(): void {
    if (!this.draining) this.socket.setTimeout(this.deps.settings().idleTimeoutMs);
  }

  private maybeFinished(): void {
    if (this.socketClosed && this.pendingAppends === 0 && this.pendingRecords === 0) {
      this.settleFinished();
    }
  }

  /** Gives the connection to a registered protocol (sluice frames). */
  private handOver(protocol: ProtocolHandler): void {
    const first = this.detectBuf;
    this.detectBuf = Buffer.alloc(0);
    this.framing = protocol.name;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.pause();
    const ctx = this.protocolContext();
    Promise.resolve()
      .then(() => protocol.handle(this.socket, first, ctx))
      .catch((err: unknown) => {
        const msg = err instanceof Error ? err.message : String(err);
        this.reject('protocol_error', `${protocol.name}: ${msg}`);
      });
  }

  private protocolContext(): ProtocolContext {
    return {
      peer: this.peer,
      remoteAddress: this.remoteAddress,
      maxFrameBytes: this.deps.settings().maxLineBytes,
      logger: this.deps.logger.child({ peer: this.peer }),
      append: (records, options) => this.store(records, options?.batchId),
      admit: async (records) => {
        const kept = this.filter(records);
        while (this.pauses.has('rate')) await new Promise((r) => setTimeout(r, 20));
        return kept;
      },
      received: (records, bytes) => {
        this.records += records;
        this.deps.metrics.receivedRecords.inc(records);
        this.deps.onReceived(this.remoteAddress, records);
        if (bytes > 0) {
          // Bytes are counted on the socket for built-in framings; a handler owns its socket.
          this.bytes += bytes;
          this.deps.metrics.receivedBytes.inc(bytes);
        }
      },
      dropped: (reason, records) => this.drop(reason, records),
      reject: (reason, detail) => this.reject(reason, detail),
    };
  }
}
