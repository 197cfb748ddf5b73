// The collector's side of sluice's framed protocol (docs/protocol.md): one session per
// connection. It reads the client's hello, then batches; each batch is checked (CRC, sizes),
// decompressed under a cap, decoded into records, admitted (level filter, rate limit) and
// appended to the store under its identity (shipper id / source / sequence). The ack frame
// goes out only once the store says the batch is durable, in the order batches arrived.

import type { Duplex } from 'node:stream';
import { decodeJson, normalizeRecord } from '../record/json.js';
import type { JsonValue, LogRecord } from '../record/record.js';
import {
  registerProtocol,
  type AppendResult,
  type ProtocolContext,
  type ProtocolHandler,
} from '../framing/detect.js';
import {
  FLAG_DUPLICATE,
  FLAG_REPLY,
  FrameDecoder,
  FrameError,
  MAGIC,
  PROTOCOL_VERSION,
  encodeFrame,
  encodePreamble,
  frameJson,
  jsonFrame,
  type Frame,
} from '../framing/frame.js';
import { DecompressError, decompress } from '../codec/codec.js';
import { counter } from '../telemetry/metrics.js';

export interface FrameSessionLimits {
  /** Largest frame payload on the wire. */
  maxFrameBytes: number;
  /** Largest decompressed batch payload (the decompression cap). */
  maxBatchBytes: number;
  /** Batches a client may have unacknowledged; the session stops reading beyond it. */
  window: number;
}

export const DEFAULT_SESSION_LIMITS: FrameSessionLimits = {
  maxFrameBytes: 16 << 20,
  maxBatchBytes: 64 << 20,
  window: 64,
};

const duplicates = counter(
  'sluice_collector_duplicate_batches_total',
  'Batches received again (same shipper id, source and sequence) and not stored twice.',
);
const framesIn = counter('sluice_collector_frames_total', 'Sluice frames received, by type.', [
  'type',
]);
const frameErrors = counter(
  'sluice_collector_frame_errors_total',
  'Sluice protocol violations that closed a connection, by code.',
  ['code'],
);

interface Identity {
  shipperId: string;
  source: string;
}

const MAX_ID_CHARS = 200;

/**
 * Fault injection for crash tests: `SLUICE_SERVE_CRASH_BEFORE_ACK=N` kills the process
 * (SIGKILL) once the Nth batch is durable in the store and before its ack is sent, the window
 * in which a crash makes a shipper send a stored batch again.
 */
const CRASH_BEFORE_ACK = Number(process.env.SLUICE_SERVE_CRASH_BEFORE_ACK ?? 0);
let durableBatches = 0;

/** A run of 16+ digits may be an integer beyond 2^53 (as in src/record/json.ts). */
const LONG_DIGITS = /\d{16}/;

/** Reads the client hello: who the shipper is and which stream it sends. */
function readHello(frame: Frame): Identity {
  if (frame.type !== 'hello') {
    throw new FrameError('hello_expected', `first frame is ${frame.type}, expected hello`);
  }
  const body = frameJson(frame);
  const shipperId = body.shipper_id;
  const source = body.source ?? 'default';
  for (const [name, v] of [
    ['shipper_id', shipperId],
    ['source', source],
  ] as const) {
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_CHARS) {
      throw new FrameError(
        'bad_hello',
        `hello ${name} must be a string of 1-${MAX_ID_CHARS} chars`,
      );
    }
  }
  return { shipperId: shipperId as string, source: source as string };
}

/**
 * Turns an NDJSON payload into records. A line that is not a JSON object is kept as a text
 * record with parse_error (accepted data is never dropped silently); the count is returned.
 */
export function decodeBatchPayload(payload: Buffer, peer: string) {
  const records: LogRecord[] = [];
  let bad = 0;
  const text = payload.toString('utf8');
  // Integers beyond 2^53 need the exact reader; one test of the payload spares it per line.
  const parse = LONG_DIGITS.test(text)
    ? decodeJson
    : (line: string) => JSON.parse(line) as JsonValue;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim().length === 0) continue;
    const record = decodeLine(line, peer, parse);
    if (record) records.push(record);
    else {
      bad++;
      records.push(textRecord(line, peer, lineProblem(line)));
    }
  }
  return { records, bad };
}

/** The record a batch line holds, or undefined when the line is not a JSON object. */
function decodeLine(
  line: string,
  peer: string,
  parse: (line: string) => JsonValue,
): LogRecord | undefined {
  let value: JsonValue;
  try {
    value = parse(line);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = normalizeRecord(value as Record<string, JsonValue>);
  if (record.source === undefined) record.source = peer;
  return record;
}

function lineProblem(line: string): string {
  try {
    decodeJson(line);
    return 'batch line is not a JSON object';
  } catch {
    return 'batch line is not valid JSON';
  }
}

function textRecord(line: string, peer: string, why: string): LogRecord {
  return {
    timestamp: new Date().toISOString(),
    level: 'info',
    severity: 9,
    message: line,
    format: 'text',
    source: peer,
    raw: line,
    parse_error: why,
  };
}

/** Runs one connection to its end; resolves when the socket closes. */
export function runFrameSession(
  socket: Duplex,
  firstBytes: Buffer,
  ctx: ProtocolContext,
  limits: FrameSessionLimits = DEFAULT_SESSION_LIMITS,
): Promise<void> {
  return new FrameSession(socket, ctx, limits).run(firstBytes);
}

class FrameSession {
  private readonly decoder: FrameDecoder;
  private identity?: Identity;
  /** Batches received and not yet acknowledged. */
  private inFlight = 0;
  /** Acks are written in arrival order: each batch's work chains on the previous one. */
  private tail: Promise<void> = Promise.resolve();
  /** Appends start in arrival order too (admission may wait on the rate limit). */
  private appendChain: Promise<void> = Promise.resolve();
  private closed = false;
  private paused = false;

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ProtocolContext,
    private readonly limits: FrameSessionLimits,
  ) {
    this.decoder = new FrameDecoder({
      maxFrameBytes: Math.min(limits.maxFrameBytes, limits.maxBatchBytes),
      maxUncompressedBytes: limits.maxBatchBytes,
      expectPreamble: true,
    });
  }

  run(firstBytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        this.closed = true;
        resolve();
      };
      this.socket.on('close', finish);
      this.socket.on('error', (err) => {
        this.ctx.logger.debug({ err: err.message, peer: this.ctx.peer }, 'Connection error.');
        finish();
      });
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.on('end', () => this.tail.then(() => this.socket.end()));
      if (firstBytes.length > 0) this.onData(firstBytes);
      // The collector pauses the socket while handing it over; reading starts here.
      this.socket.resume();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      try {
        this.onFrame(frame);
      } catch (err) {
        this.fail(err);
        return;
      }
    }
  }

  private onFrame(frame: Frame): void {
    framesIn.inc({ type: frame.type });
    if (!this.identity) {
      this.identity = readHello(frame);
      this.socket.write(
        Buffer.concat([
          encodePreamble(),
          jsonFrame('hello', {
            server: 'sluice',
            version: PROTOCOL_VERSION,
            window: this.limits.window,
            max_frame_bytes: this.limits.maxFrameBytes,
            max_batch_bytes: this.limits.maxBatchBytes,
          }),
        ]),
      );
      return;
    }
    switch (frame.type) {
      case 'batch':
        return this.onBatch(frame);
      case 'ping':
        if ((frame.flags & FLAG_REPLY) === 0) {
          this.socket.write(
            encodeFrame({ type: 'ping', sequence: frame.sequence, flags: FLAG_REPLY }),
          );
        }
        return;
      case 'error':
        this.ctx.logger.warn(
          { peer: this.ctx.peer, error: frameJson(frame) },
          'Shipper sent an error.',
        );
        this.socket.end();
        return;
      default:
        throw new FrameError('unexpected_frame', `a client may not send ${frame.type} frames`);
    }
  }

  private onBatch(frame: Frame): void {
    this.inFlight++;
    if (this.inFlight > this.limits.window && !this.paused) {
      // Only a client that ignores the window gets here: stop reading until acks catch up.
      this.paused = true;
      this.socket.pause();
    }
    // Decompression and decoding run as soon as the frame arrives. Appends start in arrival
    // order without waiting for earlier batches to be durable: the store groups every append
    // waiting for its fsync into one sync, so awaiting each append before starting the next
    // would cap a connection at one batch per fsync (one per second under --fsync interval).
    // Only the acks wait for the batches before them.
    const decoded = this.decodeBatch(frame);
    decoded.catch(() => undefined);
    const started = this.appendChain.then(() => this.appendBatch(frame, decoded));
    this.appendChain = started.then(
      () => undefined,
      () => undefined,
    );
    this.tail = this.tail.then(() => this.ackBatch(frame, started));
  }

  private async decodeBatch(frame: Frame): Promise<LogRecord[]> {
    const raw = await decompress(
      frame.payload,
      frame.codec,
      frame.uncompressedBytes,
      this.limits.maxBatchBytes,
    );
    const { records, bad } = decodeBatchPayload(raw, this.ctx.peer);
    this.ctx.received(records.length, raw.length);
    if (bad > 0) {
      this.ctx.logger.warn(
        { peer: this.ctx.peer, lines: bad },
        'Batch lines not JSON kept as text.',
      );
    }
    return records;
  }

  /**
   * Admits the batch and hands it to the store. The append is returned inside an object so
   * that the chain of appends does not wait for it to become durable.
   */
  private async appendBatch(
    frame: Frame,
    decoded: Promise<LogRecord[]>,
  ): Promise<{ appended?: Promise<AppendResult> }> {
    if (this.closed) return {};
    let admitted: LogRecord[];
    try {
      admitted = await this.ctx.admit(await decoded);
    } catch (err) {
      // A bad payload ends the connection now, before any later batch is appended.
      this.fail(err);
      return {};
    }
    if (this.closed) return {};
    const { shipperId, source } = this.identity as Identity;
    const appended = this.ctx.append(admitted, {
      batchId: `${shipperId}/${source}/${frame.sequence}`,
    });
    appended.catch(() => undefined);
    return { appended };
  }

  private async ackBatch(
    frame: Frame,
    started: Promise<{ appended?: Promise<AppendResult> }>,
  ): Promise<void> {
    if (this.closed) return;
    try {
      const { appended } = await started;
      if (!appended) return;
      const result = await appended;
      if (CRASH_BEFORE_ACK > 0 && ++durableBatches === CRASH_BEFORE_ACK) {
        process.kill(process.pid, 'SIGKILL');
      }
      if (result.duplicate) duplicates.inc();
      if (this.closed) return;
      const body = { stored: result.stored, duplicate: result.duplicate };
      const flags = result.duplicate ? FLAG_DUPLICATE : 0;
      this.socket.write(jsonFrame('ack', body, frame.sequence, flags));
      this.inFlight--;
      if (this.paused && this.inFlight <= this.limits.window) {
        this.paused = false;
        this.socket.resume();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Sends an error frame naming the problem, then closes; later frames are ignored. */
  private fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const known = err instanceof FrameError || err instanceof DecompressError;
    const code = known ? err.code : 'store_failed';
    const message = err instanceof Error ? err.message : String(err);
    frameErrors.inc({ code });
    if (!this.identity) {
      // The client never got our preamble; send it so it can read the error frame.
      this.socket.write(encodePreamble());
    }
    this.socket.write(jsonFrame('error', { code, message }));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2_000).unref();
    if (known) this.ctx.reject(code, message);
    else this.ctx.logger.error({ peer: this.ctx.peer, err: message }, 'Batch could not be stored.');
  }
}

/** The handler the collector consults for connections that start with "SLUC". */
export const frameProtocol: ProtocolHandler = {
  name: 'sluice-frames',
  magic: MAGIC,
  handle: (socket, firstBytes, ctx) =>
    runFrameSession(socket, firstBytes, ctx, {
      ...DEFAULT_SESSION_LIMITS,
      maxFrameBytes: Math.max(ctx.maxFrameBytes, DEFAULT_SESSION_LIMITS.maxFrameBytes),
    }),
};

registerProtocol(frameProtocol);
