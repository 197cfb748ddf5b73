// The shipper's side of sluice's framed protocol: one connection at a time to a collector,
// a window of unacknowledged batches, pings to notice a dead link, and on any failure a
// reconnect with capped exponential backoff and full jitter, after which every batch that was
// not acknowledged is sent again (the collector's dedupe makes the repeat harmless).

import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { ProtocolError } from '../errors.js';
import {
  FLAG_DUPLICATE,
  FLAG_REPLY,
  FrameDecoder,
  FrameError,
  encodeFrameParts,
  encodePreamble,
  frameJson,
  jsonFrame,
  type CodecName,
  type Frame,
} from '../framing/frame.js';
import { VERSION } from '../version.js';

/** Opens a connection; swap it for TLS (src/net/tls.ts createTlsConnector). */
export type Connector = (host: string, port: number) => Promise<Duplex>;

export const tcpConnector: Connector = (host, port) =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });

/** One batch ready for the wire: payload already compressed with `codec`. */
export interface OutgoingBatch {
  sequence: number;
  codec: CodecName;
  payload: Buffer;
  uncompressedBytes: number;
  records: number;
}

export interface AckInfo {
  sequence: number;
  duplicate: boolean;
  stored: number;
  /** Seconds from the (last) write of the batch to its ack. */
  rttSeconds: number;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export interface FrameClientOptions {
  host: string;
  port: number;
  connector?: Connector;
  shipperId: string;
  source: string;
  /** Most batches sent and not yet acknowledged. */
  window: number;
  backoff: BackoffOptions;
  /** A connection with an ack outstanding this long, or silent this long, is re-made. */
  ackTimeoutMs: number;
  pingIntervalMs: number;
  /** Largest payload the client accepts from the collector (acks and errors are small). */
  maxFrameBytes?: number;
}

export interface FrameClientEvents {
  connected: [];
  disconnected: [reason: string];
  ack: [AckInfo];
  retry: [sequence: number];
  /** A connect failed or the connection was lost: another attempt follows after `delayMs`. */
  reconnecting: [delayMs: number, reason: string];
}

interface Slot {
  batch: OutgoingBatch;
  sentAt?: bigint;
  resolve: (ack: AckInfo) => void;
}

/** Full jitter: a random delay in [0, min(max, initial * 2^attempt)), at least 50 ms. */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random = Math.random) {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(Math.min(50, ceiling), Math.floor(random() * ceiling));
}

export class FrameClient extends EventEmitter<FrameClientEvents> {
  /** Waiting to be sent, in sequence order. */
  private readonly queue: Slot[] = [];
  /** Sent on the current connection, not yet acknowledged. */
  private readonly inFlight = new Map<number, Slot>();
  private socket?: Duplex;
  private ready = false;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private lastHeard = 0;
  private pingNonce = 0;
  private readonly connector: Connector;
  /** The window the collector announced in its hello (the smaller one wins). */
  private window: number;
  connectedSince?: number;
  lastError?: string;

  constructor(private readonly options: FrameClientOptions) {
    super();
    this.connector = options.connector ?? tcpConnector;
    this.window = options.window;
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Batches handed over and not yet acknowledged. */
  get pending(): number {
    return this.queue.length + this.inFlight.size;
  }

  start(): void {
    void this.connect();
  }

  /** Queues a batch; resolves when the collector acknowledged it (never rejects). */
  send(batch: OutgoingBatch): Promise<AckInfo> {
    return new Promise((resolve) => {
      this.queue.push({ batch, resolve });
      this.pump();
    });
  }

  /** Forgets a queued batch (the spool dropped it); false when it was already sent. */
  cancel(sequence: number): boolean {
    const i = this.queue.findIndex((s) => s.batch.sequence === sequence);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.ready = false;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      });
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let socket: Duplex;
    try {
      socket = await this.connector(this.options.host, this.options.port);
    } catch (err) {
      this.scheduleReconnect(`connect failed: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.attach(socket);
  }

  private attach(socket: Duplex): void {
    this.socket = socket;
    const decoder = new FrameDecoder({
      maxFrameBytes: this.options.maxFrameBytes ?? 1 << 20,
      maxUncompressedBytes: this.options.maxFrameBytes ?? 1 << 20,
      expectPreamble: true,
    });
    let gone = false;
    const drop = (reason: string) => {
      if (gone) return;
      gone = true;
      this.onDisconnect(socket, reason);
    };
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      try {
        for (const frame of decoder.push(chunk)) this.onFrame(frame);
      } catch (err) {
        const reason = err instanceof ProtocolError ? err.message : String(err);
        if (err instanceof FrameError) socket.write(jsonFrame('error', { code: err.code, reason }));
        socket.destroy();
        drop(`protocol error: ${reason}`);
      }
    });
    socket.on('error', (err) => drop(err.message));
    socket.on('close', () => drop('connection closed'));
    socket.on('end', () => drop('collector closed the connection'));
    socket.on('drain', () => this.pump());
    this.lastHeard = Date.now();
    socket.write(encodePreamble());
    socket.write(
      jsonFrame('hello', {
        shipper_id: this.options.shipperId,
        source: this.options.source,
        client: `sluice/${VERSION}`,
        window: this.options.window,
      }),
    );
    this.pingTimer = setInterval(() => this.keepAlive(socket), this.options.pingIntervalMs);
    this.pingTimer.unref();
  }

  private onFrame(frame: Frame): void {
    if (!this.ready) {
      if (frame.type === 'error') throw new ProtocolError(this.describeError(frame));
      if (frame.type !== 'hello') throw new ProtocolError(`expected hello, got ${frame.type}`);
      const hello = frameJson(frame);
      if (typeof hello.window === 'number' && hello.window >= 1) {
        this.window = Math.min(this.options.window, hello.window);
      }
      this.ready = true;
      this.attempt = 0;
      this.connectedSince = Date.now();
      this.lastError = undefined;
      this.emit('connected');
      this.pump();
      return;
    }
    if (frame.type === 'ack') this.onAck(frame);
    else if (frame.type === 'error') throw new ProtocolError(this.describeError(frame));
    else if (frame.type === 'ping' && (frame.flags & FLAG_REPLY) === 0) {
      this.socket?.write(jsonFrame('ping', {}, frame.sequence, FLAG_REPLY));
    }
  }

  private describeError(frame: Frame): string {
    const body = frameJson(frame);
    return `collector refused: ${String(body.code)}: ${String(body.message)}`;
  }

  private onAck(frame: Frame): void {
    const slot = this.inFlight.get(frame.sequence);
    if (!slot) return; // an ack for a batch sent on an earlier connection and already settled
    this.inFlight.delete(frame.sequence);
    const body = frameJson(frame);
    const rtt = slot.sentAt ? Number(process.hrtime.bigint() - slot.sentAt) / 1e9 : 0;
    const ack: AckInfo = {
      sequence: frame.sequence,
      duplicate: (frame.flags & FLAG_DUPLICATE) !== 0,
      stored: typeof body.stored === 'number' ? body.stored : 0,
      rttSeconds: rtt,
    };
    this.emit('ack', ack);
    slot.resolve(ack);
    this.pump();
  }

  /** Writes queued batches while the window and the socket's buffer allow. */
  private pump(): void {
    const socket = this.socket;
    if (!this.ready || !socket) return;
    while (this.queue.length > 0 && this.inFlight.size < this.window) {
      const slot = this.queue.shift() as Slot;
      const { batch } = slot;
      const parts = encodeFrameParts({
        type: 'batch',
        codec: batch.codec,
        sequence: batch.sequence,
        uncompressedBytes: batch.uncompressedBytes,
        payload: batch.payload,
      });
      slot.sentAt = process.hrtime.bigint();
      this.inFlight.set(batch.sequence, slot);
      socket.write(parts[0]);
      const more = socket.write(parts[1]);
      if (!more) break;
    }
  }

  private keepAlive(socket: Duplex): void {
    // The collector answers pings, so silence this long means a dead link or a stuck peer.
    const silentMs = Date.now() - this.lastHeard;
    if (silentMs > this.options.ackTimeoutMs) {
      socket.destroy();
      this.onDisconnect(socket, `no answer for ${Math.round(silentMs / 1000)} s`);
      return;
    }
    if (this.ready) socket.write(jsonFrame('ping', {}, ++this.pingNonce));
  }

  private onDisconnect(socket: Duplex, reason: string): void {
    if (this.socket !== socket) return;
    clearInterval(this.pingTimer);
    this.socket = undefined;
    const wasReady = this.ready;
    this.ready = false;
    this.connectedSince = undefined;
    socket.destroy();
    // Everything unacknowledged goes back to the front of the queue, in sequence order.
    const unacked = [...this.inFlight.values()].sort((a, b) => a.batch.sequence - b.batch.sequence);
    this.inFlight.clear();
    for (const slot of unacked) this.emit('retry', slot.batch.sequence);
    this.queue.unshift(...unacked);
    if (wasReady) this.emit('disconnected', reason);
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopped) return;
    this.lastError = reason;
    const delay = backoffDelayMs(this.attempt++, this.options.backoff);
    this.emit('reconnecting', delay, reason);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }
}
