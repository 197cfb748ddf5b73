// The fast path for access logs: lines written straight into a byte buffer from pre-encoded
// pieces, with no string built per line. Access-log lines are ASCII by construction (targets
// are checked when a scenario loads, placeholder values are percent-encoded, everything else
// comes from ASCII lists), so each piece is encoded once and copied with TypedArray.set.
// It writes exactly the bytes of the string formatter in formats.ts; a test holds them equal.

import type { GenEvent } from './event.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MAX_CACHED = 65_536;
/** Longest string copied by a charCodeAt loop; longer ones go through Buffer#write. */
const LOOP_MAX_CHARS = 48;

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

export class AccessByteWriter {
  private readonly pieces = new Map<string, Uint8Array>();
  private sec = Number.NaN;
  /** `] "` closing the time, pre-joined with it: `[01/Mar/2026:08:00:00 +0000] "`. */
  private timeBytes = new Uint8Array(0);

  constructor(private readonly combined: boolean) {}

  /** The bytes of a long ASCII string from a fixed list (user agents), cached. */
  private bytes(s: string): Uint8Array {
    let b = this.pieces.get(s);
    if (b === undefined) {
      b = Buffer.from(s, 'latin1');
      if (this.pieces.size < MAX_CACHED) this.pieces.set(s, b);
    }
    return b;
  }

  private time(ms: number): Uint8Array {
    const sec = Math.floor(ms / 1000);
    if (sec !== this.sec) {
      this.sec = sec;
      const d = new Date(sec * 1000);
      this.timeBytes = Buffer.from(
        ` [${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
          `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000] "`,
        'latin1',
      );
    }
    return this.timeBytes;
  }

  /** Writes the line and its newline at `at`; returns the offset after it. */
  write(ev: GenEvent, buf: Buffer, at: number): number {
    const r = ev.request;
    let o = putAscii(buf, at, r.clientIp);
    buf[o++] = 32;
    buf[o++] = 45;
    buf[o++] = 32;
    if (r.remoteUser) o = putAscii(buf, o, r.remoteUser);
    else buf[o++] = 45;
    o = put(buf, o, this.time(ev.timeMs));
    o = putAscii(buf, o, r.method);
    buf[o++] = 32;
    o = putAscii(buf, o, r.path);
    if (r.query) {
      buf[o++] = 63;
      o = putAscii(buf, o, r.query);
    }
    buf[o++] = 32;
    o = putAscii(buf, o, r.protocol);
    buf[o++] = 34;
    buf[o++] = 32;
    o = putInt(buf, o, r.status);
    buf[o++] = 32;
    if (r.bytes > 0) o = putInt(buf, o, r.bytes);
    else buf[o++] = 45;
    if (this.combined) {
      buf[o++] = 32;
      buf[o++] = 34;
      if (r.referrer) o = putAscii(buf, o, r.referrer);
      else buf[o++] = 45;
      buf[o++] = 34;
      buf[o++] = 32;
      buf[o++] = 34;
      o = put(buf, o, this.bytes(r.userAgent));
      buf[o++] = 34;
    }
    buf[o++] = 10;
    return o;
  }
}

function put(buf: Buffer, at: number, piece: Uint8Array): number {
  buf.set(piece, at);
  return at + piece.length;
}

/**
 * Copies an ASCII string byte by byte: cheaper than a cache lookup for values that change
 * from line to line (addresses, paths, referrers), which would need hashing each time. The
 * engine hands these over as flat strings (flat-string.ts), so the loop beats the call into
 * C++ of Buffer#write up to a few dozen characters.
 */
function putAscii(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n > LOOP_MAX_CHARS) return at + buf.write(s, at, 'latin1');
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  return at + n;
}

/** Writes a non-negative integer in decimal. */
function putInt(buf: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let o = at + digits;
  for (let x = n; o > at; x = Math.floor(x / 10)) buf[--o] = 48 + (x % 10);
  return at + digits;
}
