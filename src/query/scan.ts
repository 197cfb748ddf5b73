// Finds the lines of a block worth parsing. With a literal, the whole block is searched with
// Buffer.indexOf and only the lines around hits are visited; with a candidate regex, the block
// is searched as one latin1 string; otherwise every line is visited, decoded once per block.

import { LiteralSearch } from './literal.js';
import { BACKSLASH, CR, NL } from './probe/bytes.js';
import type { Prefilter } from './prefilter.js';
import { jsonLevelLineStarts } from './probe/json-level.js';
import { rawAccessLine, readRawAccess, type RawAccessLine } from './probe/access-raw.js';

/** Receives a candidate line as text; `sure` means the -v literal test already decided it. */
export type LineHandler = (line: string, sure: boolean) => boolean;

/** What an AccessLineHandler decided about a line read raw. */
export const RAW_SKIP = 0;
export const RAW_VISIT = 1;
export const RAW_STOP = 2;

/**
 * Decides a line of buf[s, e) that readRawAccess read: RAW_SKIP (rejected, or already taken),
 * RAW_VISIT (hand it to the line handler) or RAW_STOP (the query is done).
 */
export type AccessLineHandler = (buf: Buffer, s: number, e: number, line: RawAccessLine) => number;

/**
 * Calls `handle` for each candidate line of buf[0, end); stops early when it returns false.
 * Returns false when stopped. With `access`, lines read raw as access lines go to it first.
 */
export function scanBlock(
  buf: Buffer,
  end: number,
  pre: Prefilter,
  handle: LineHandler,
  access?: AccessLineHandler,
): boolean {
  const sub = buf.subarray(0, end);
  if (pre.literal !== undefined) return scanLiteral(sub, pre, handle, access);
  if (access !== undefined) return scanAccess(sub, pre, handle, access);
  if (pre.jsonLevel !== undefined && sub[0] === 123) {
    return scanStarts(sub, jsonLevelLineStarts(sub, pre.jsonLevel.min), pre, handle);
  }
  if (pre.candidates !== undefined) return scanRegex(sub, pre, handle);
  return scanAll(sub, pre, handle);
}

/** Lines around literal hits; with `access`, a hit line read raw as an access line goes there. */
function scanLiteral(
  sub: Buffer,
  pre: Prefilter,
  handle: LineHandler,
  access?: AccessLineHandler,
): boolean {
  const search = (pre.literalSearch ??= new LiteralSearch(pre.literal as Buffer, sub));
  const end = sub.length;
  const facts = access !== undefined ? rawAccessLine() : undefined;
  let nextLit = search.find(sub, 0);
  let nextEsc = sub.indexOf(BACKSLASH, 0);
  let p = 0;
  while (nextLit >= 0 || nextEsc >= 0) {
    const hit = nextLit < 0 ? nextEsc : nextEsc < 0 ? nextLit : Math.min(nextLit, nextEsc);
    const s = hit === 0 ? 0 : sub.lastIndexOf(NL, hit - 1) + 1;
    let e = sub.indexOf(NL, hit);
    if (e < 0) e = end;
    let verdict = RAW_VISIT;
    if (access !== undefined && (nextEsc < 0 || nextEsc >= e)) {
      const le = e > s && sub[e - 1] === CR ? e - 1 : e;
      const line = facts as RawAccessLine;
      if (le > s && readRawAccess(sub, s, le, line)) verdict = access(sub, s, le, line);
    }
    if (verdict === RAW_STOP) return false;
    if (verdict === RAW_VISIT && !visit(sub, s, e, pre, handle)) return false;
    p = e + 1;
    if (p >= end) break;
    if (nextLit >= 0 && nextLit < p) nextLit = search.find(sub, p);
    if (nextEsc >= 0 && nextEsc < p) nextEsc = sub.indexOf(BACKSLASH, p);
  }
  return true;
}

/**
 * Reads each line as an access line off its bytes; lines it cannot read that way (or that have
 * a backslash, found with one memchr per backslash) are visited as usual.
 */
function scanAccess(
  sub: Buffer,
  pre: Prefilter,
  handle: LineHandler,
  access: AccessLineHandler,
): boolean {
  const end = sub.length;
  const facts = rawAccessLine();
  let nextEsc = sub.indexOf(BACKSLASH, 0);
  if (nextEsc < 0) nextEsc = end;
  let s = 0;
  while (s < end) {
    let e = sub.indexOf(NL, s);
    if (e < 0) e = end;
    const le = e > s && sub[e - 1] === CR ? e - 1 : e;
    if (le > s) {
      let verdict = RAW_VISIT;
      if (nextEsc >= e && readRawAccess(sub, s, le, facts)) verdict = access(sub, s, le, facts);
      if (verdict === RAW_STOP) return false;
      if (verdict === RAW_VISIT && !visit(sub, s, e, pre, handle)) return false;
    }
    s = e + 1;
    if (nextEsc < s) {
      nextEsc = sub.indexOf(BACKSLASH, s);
      if (nextEsc < 0) nextEsc = end;
    }
  }
  return true;
}

function visit(sub: Buffer, s: number, e: number, pre: Prefilter, handle: LineHandler): boolean {
  if (pre.checks.length > 0) {
    const l1 = sub.toString('latin1', s, e);
    for (const check of pre.checks) if (!check(l1)) return true;
  }
  return handle(sub.toString('utf8', s, e), false);
}

/** Visits the lines starting at the given offsets (ascending) of a block. */
function scanStarts(sub: Buffer, starts: number[], pre: Prefilter, handle: LineHandler): boolean {
  for (const s of starts) {
    let e = sub.indexOf(NL, s);
    if (e < 0) e = sub.length;
    if (!visit(sub, s, e, pre, handle)) return false;
  }
  return true;
}

function scanRegex(sub: Buffer, pre: Prefilter, handle: LineHandler): boolean {
  const text = sub.toString('latin1');
  const re = pre.candidates as RegExp;
  re.lastIndex = 0;
  const test = pre.candidateTest;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (test !== undefined && !test(m)) continue;
    const hit = m.index;
    const s = hit === 0 ? 0 : text.lastIndexOf('\n', hit - 1) + 1;
    let e = text.indexOf('\n', hit);
    if (e < 0) e = text.length;
    let ok = true;
    if (pre.checks.length > 0) {
      const l1 = text.slice(s, e);
      for (const check of pre.checks) {
        if (!check(l1)) {
          ok = false;
          break;
        }
      }
    }
    if (ok && !handle(sub.toString('utf8', s, e), false)) return false;
    if (e >= text.length) break;
    re.lastIndex = e + 1;
  }
  return true;
}

/**
 * Visits every line, each decoded on its own: decoding the whole block into one string made a
 * large-object allocation per block that only a full collection frees, and RSS grew with it.
 */
function scanAll(sub: Buffer, pre: Prefilter, handle: LineHandler): boolean {
  const inv = pre.invertLiteral;
  const end = sub.length;
  // Next literal hit and next backslash (the literal holds no newline, so a hit is in one line).
  let nextInv = end;
  let nextEsc = end;
  if (inv !== undefined) {
    nextInv = sub.indexOf(inv, 0);
    if (nextInv < 0) nextInv = end;
    nextEsc = sub.indexOf(BACKSLASH, 0);
    if (nextEsc < 0) nextEsc = end;
  }
  let s = 0;
  while (s < end) {
    let e = sub.indexOf(NL, s);
    if (e < 0) e = end;
    if (inv !== undefined && nextInv < s) {
      nextInv = sub.indexOf(inv, s);
      if (nextInv < 0) nextInv = end;
    }
    if (inv !== undefined && nextEsc < s) {
      nextEsc = sub.indexOf(BACKSLASH, s);
      if (nextEsc < 0) nextEsc = end;
    }
    const sure = inv !== undefined && nextInv >= e && nextEsc >= e;
    if (!handle(sub.toString('utf8', s, e), sure)) return false;
    s = e + 1;
  }
  return true;
}
