// Which framing a TCP connection speaks, decided from its first bytes, and the registry through
// which other protocols (sluice's framed binary protocol, "SLUC") claim a connection.
//
// Built-in framings, in the order they are tested (leading whitespace is skipped):
//   `{`                      newline-delimited JSON records (ndjson)
//   digits, SP, `<`          RFC 6587 octet-counted syslog (octet)
//   `<` digits `>`           newline-framed syslog (syslog)
//   other printable bytes    plain text lines (text)
//   control bytes            no framing accepts them (rejected: a TLS handshake sent to the
//                            plain port, binary garbage)

import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { LogRecord } from '../record/record.js';

export type BuiltinFraming = 'ndjson' | 'octet' | 'syslog' | 'text';

export type Detection =
  | { kind: 'builtin'; framing: BuiltinFraming }
  | { kind: 'protocol'; protocol: ProtocolHandler }
  | { kind: 'reject'; reason: string }
  | { kind: 'more' };

/** What the store said about one append. */
export interface AppendResult {
  /** Records written by this call (0 when the batch was a duplicate). */
  stored: number;
  /** True when a batch with the same batchId was already stored; nothing was written. */
  duplicate: boolean;
}

/** What a protocol handler gets from the collector for one connection. */
export interface ProtocolContext {
  /** `tcp://ADDR:PORT` (or `tls://...`) of the client, for record.source and logs. */
  readonly peer: string;
  /** The client's IP address (IPv4-mapped IPv6 addresses are given as IPv4). */
  readonly remoteAddress: string;
  /** Largest frame the collector allows (its --max-line-bytes). */
  readonly maxFrameBytes: number;
  readonly logger: Logger;
  /**
   * Writes records to the store; resolves once they are durable. With a batchId, a batch
   * already stored under that id is not written again and resolves `{duplicate: true}`.
   * Does not filter: call admit() first.
   */
  append(records: LogRecord[], options?: { batchId?: string }): Promise<AppendResult>;
  /**
   * Applies the level filter and this client's rate limit to records it sent, counting every
   * drop by reason. With --rate-action slow it resolves only once the client's tokens allow
   * the records (pause reading meanwhile: the collector pauses the socket for you); with drop,
   * the excess is dropped and counted. Returns the records to append.
   */
  admit(records: LogRecord[]): Promise<LogRecord[]>;
  /** Counts records and bytes received from the client (metrics and the close log line). */
  received(records: number, bytes: number): void;
  /** Counts records dropped for a reason of the handler's own (e.g. 'decode_error'). */
  dropped(reason: string, records: number): void;
  /** Logs, counts and closes the connection for a protocol violation. */
  reject(reason: string, detail: string): void;
}

export interface ProtocolHandler {
  /** Short name for logs and metrics, e.g. 'sluice-frames'. */
  name: string;
  /** The bytes a connection of this protocol starts with, e.g. Buffer.from('SLUC'). */
  magic: Buffer;
  /**
   * Takes over the connection. firstBytes (at least the magic) were already read from the
   * socket and must be treated as the start of the stream. Resolve when the connection is
   * finished; the collector counts and logs the close.
   */
  handle(socket: Duplex, firstBytes: Buffer, ctx: ProtocolContext): Promise<void> | void;
}

const protocols: ProtocolHandler[] = [];

/** Registers a protocol claimed by its first bytes. Later registrations of a name replace it. */
export function registerProtocol(handler: ProtocolHandler): void {
  const i = protocols.findIndex((p) => p.name === handler.name);
  if (i >= 0) protocols[i] = handler;
  else protocols.push(handler);
}

export function registeredProtocols(): readonly ProtocolHandler[] {
  return protocols;
}

const MAX_OCTET_DIGITS = 10;

/**
 * Decides the framing from the bytes seen so far. `final` is true when the stream ended (or
 * the detection budget ran out), so "more" is not an answer.
 */
export function detectFraming(first: Buffer, final = false): Detection {
  for (const p of protocols) {
    const n = Math.min(first.length, p.magic.length);
    if (first.subarray(0, n).equals(p.magic.subarray(0, n))) {
      if (n === p.magic.length) return { kind: 'protocol', protocol: p };
      if (!final) return { kind: 'more' };
    }
  }
  let i = 0;
  while (i < first.length && isSpace(first[i])) i++;
  if (i === first.length) return final ? { kind: 'builtin', framing: 'text' } : { kind: 'more' };
  const b = first[i];
  if (b === 0x7b) return { kind: 'builtin', framing: 'ndjson' };
  if (isDigit(b)) return detectOctet(first, i, final);
  if (b === 0x3c) return detectPri(first, i, final);
  if (b < 0x20 || b === 0x7f) {
    return { kind: 'reject', reason: `first byte 0x${b.toString(16).padStart(2, '0')}` };
  }
  return { kind: 'builtin', framing: 'text' };
}

function detectOctet(first: Buffer, start: number, final: boolean): Detection {
  let i = start;
  while (i < first.length && isDigit(first[i]) && i - start <= MAX_OCTET_DIGITS) i++;
  if (i === first.length || i + 1 === first.length) {
    return final ? { kind: 'builtin', framing: 'text' } : { kind: 'more' };
  }
  if (first[i] === 0x20 && first[i + 1] === 0x3c) return { kind: 'builtin', framing: 'octet' };
  return { kind: 'builtin', framing: 'text' };
}

function detectPri(first: Buffer, start: number, final: boolean): Detection {
  let i = start + 1;
  while (i < first.length && isDigit(first[i]) && i - start <= 3) i++;
  if (i === first.length) return final ? { kind: 'builtin', framing: 'text' } : { kind: 'more' };
  if (first[i] === 0x3e && i > start + 1) return { kind: 'builtin', framing: 'syslog' };
  return { kind: 'builtin', framing: 'text' };
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}
