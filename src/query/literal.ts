// Finding a literal in raw bytes as fast as Node allows. Buffer.indexOf with a long needle
// looks for the needle's first byte with memchr and, when that byte is common (the `/` of a
// path), soon falls back to a Boyer-Moore-Horspool loop that reads most of the bytes. Looking
// instead for the literal's rarest byte (measured on the input itself) keeps the search in
// memchr, which skips the many bytes between candidates at memory speed; each candidate is
// then compared with the whole literal.

import { sameBytes } from './probe/bytes.js';

/** Needle length: below Node's Boyer-Moore minimum (8 bytes), so the search stays memchr. */
const LINEAR_NEEDLE_BYTES = 6;
/** A rare byte more frequent than this (per byte of input) is no better than indexOf(lit). */
const MAX_RARE_FREQUENCY = 1 / 64;
/**
 * Enough lines to rank byte frequencies; small because the count runs once per thread, before
 * the loop is compiled (256 KiB took 10-25 ms in the interpreter).
 */
const SAMPLE_BYTES = 32 * 1024;

export class LiteralSearch {
  /** Offset of the needle in the literal. */
  private readonly at: number;
  /** Bytes searched with indexOf: the whole literal, or a short run from its rarest byte. */
  private readonly needle: Buffer | number;

  constructor(
    readonly literal: Buffer,
    sample?: Buffer,
  ) {
    const rare = sample !== undefined ? rarestByte(literal, sample) : undefined;
    if (rare === undefined || literal.length === 1) {
      this.at = 0;
      this.needle = literal.length === 1 ? literal[0] : literal;
      return;
    }
    this.at = rare;
    const run = literal.subarray(rare, Math.min(literal.length, rare + LINEAR_NEEDLE_BYTES));
    this.needle = run.length === 1 ? run[0] : run;
  }

  /** The first offset >= from in buf (searched up to buf.length) where the literal starts. */
  find(buf: Buffer, from: number): number {
    const lit = this.literal;
    const at = this.at;
    if (at === 0 && this.needle === lit) return buf.indexOf(lit, from);
    const len = lit.length;
    const last = buf.length - len;
    let p = buf.indexOf(this.needle, from + at);
    while (p >= 0) {
      const s = p - at;
      if (s > last) return -1;
      if (sameBytes(buf, s, lit, len)) return s;
      p = buf.indexOf(this.needle, p + 1);
    }
    return -1;
  }
}

/**
 * The offset in `literal` of its least frequent byte in `sample`, when that byte is rare enough
 * for a memchr loop to win; undefined otherwise.
 */
function rarestByte(literal: Buffer, sample: Buffer): number | undefined {
  const n = Math.min(sample.length, SAMPLE_BYTES);
  if (n < 4096) return undefined;
  const wanted = new Uint8Array(256);
  for (const b of literal) wanted[b] = 1;
  const freq = new Float64Array(256);
  for (let i = 0; i < n; i++) {
    const b = sample[i];
    if (wanted[b] === 1) freq[b]++;
  }
  let best = 0;
  for (let k = 1; k < literal.length; k++) {
    // Ties go to the earlier byte, whose needle run is longer (fewer false candidates).
    if (freq[literal[k]] < freq[literal[best]]) best = k;
  }
  if (freq[literal[best]] / n > MAX_RARE_FREQUENCY) return undefined;
  return best;
}
