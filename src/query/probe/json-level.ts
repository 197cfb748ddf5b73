// The level of NDJSON lines read off their bytes. A JSON line's level comes only from its level
// keys (SCHEMA.md), not from words in its message, so a JSON line is a candidate for --level L
// only when its "level" value reaches L; a line without a level key is info. Each line is walked
// once from string to string on its bytes (no decoding, no regex); a line with another level key
// (severity, lvl, ...), a second "level", a backslash, a value that is not plain, or bytes that
// cannot stand outside strings in JSON is left to the parser.

import { LEVEL_RANK, type Level } from '../../record/record.js';
import { levelFromNumber, levelFromValue, levelFromWord } from '../../parse/level.js';
import {
  BACKSLASH,
  BRACE_CLOSE,
  BRACE_OPEN,
  COLON,
  CR,
  NL,
  QUOTE,
  SPACE,
  TAB,
  sameBytes,
} from './bytes.js';

const wordRanks = new Map<string, number>();

/** The rank of a level word as the JSON parser reads it, or -1; cached (few distinct words). */
function wordRank(word: string): number {
  const hit = wordRanks.get(word);
  if (hit !== undefined) return hit;
  const level = levelFromValue(word) ?? levelFromWord(word.replace(/\d+$/, ''));
  const rank = level === undefined ? -1 : LEVEL_RANK[level];
  if (wordRanks.size < 256) wordRanks.set(word, rank);
  return rank;
}

/** Line starts of an NDJSON block (bytes) that may be at `min` or above, read off the bytes. */
export function jsonLevelLineStarts(buf: Buffer, min: Level): number[] {
  const minRank = LEVEL_RANK[min];
  const end = buf.length;
  const starts: number[] = [];
  let nextEsc = buf.indexOf(BACKSLASH, 0);
  if (nextEsc < 0) nextEsc = end;
  let s = 0;
  while (s < end) {
    let e = buf.indexOf(NL, s);
    if (e < 0) e = end;
    let le = e;
    while (le > s && (buf[le - 1] === CR || buf[le - 1] === SPACE)) le--;
    if (le > s) {
      // A line with a backslash, or that is not a plain JSON object, is looked at in full.
      if (nextEsc < e || buf[s] !== BRACE_OPEN || buf[le - 1] !== BRACE_CLOSE) starts.push(s);
      else {
        const rank = lineLevelRank(buf, s, le);
        if (rank === undefined || rank >= minRank) starts.push(s);
      }
    }
    s = e + 1;
    if (nextEsc < s) {
      nextEsc = buf.indexOf(BACKSLASH, s);
      if (nextEsc < 0) nextEsc = end;
    }
  }
  return starts;
}

/**
 * Bytes that may stand outside strings in JSON: a line with any other (a stray word) is not
 * valid JSON, so the parser reads it as text, where words set the level.
 */
const JSON_OUTSIDE = new Uint8Array(256);
for (const c of ' \t\r:,{}[]0123456789+-.eEtrufalsn') JSON_OUTSIDE[c.charCodeAt(0)] = 1;

/**
 * The level rank of the JSON object line buf[s, e) (no backslash in it): -1 without a level
 * key (info), undefined when it cannot be told from the bytes (another level key, a second
 * "level", an odd value). Walks from string to string: a string followed by `:` is a key.
 */
function lineLevelRank(buf: Buffer, s: number, e: number): number | undefined {
  let rank = -1;
  let seen = false;
  let i = s + 1;
  for (;;) {
    for (; i < e; i++) {
      const c = buf[i];
      if (c === QUOTE) break;
      if (JSON_OUTSIDE[c] === 0) return undefined;
    }
    if (i >= e) return rank;
    const ks = i + 1;
    let ke = ks;
    while (ke < e && buf[ke] !== QUOTE) ke++;
    if (ke >= e) return undefined;
    let v = ke + 1;
    while (buf[v] === SPACE || buf[v] === TAB) v++;
    if (buf[v] !== COLON || v >= e) {
      i = ke + 1;
      continue;
    }
    v++;
    while (buf[v] === SPACE || buf[v] === TAB) v++;
    const kind = levelKeyKind(buf, ks, ke);
    if (kind === OTHER_KEY || (kind === LEVEL_KEY && seen)) return undefined;
    if (kind === LEVEL_KEY) {
      seen = true;
      const r = valueRankAt(buf, v, e);
      if (r === undefined) return undefined;
      rank = r;
    }
    // Go on from the value: a string value is skipped whole, anything else byte by byte.
    if (buf[v] === QUOTE) {
      v++;
      while (v < e && buf[v] !== QUOTE) v++;
      if (v >= e) return undefined;
      v++;
    }
    i = v;
  }
}

const NOT_LEVEL_KEY = 0;
const LEVEL_KEY = 1;
const OTHER_KEY = 2;
/** Keys the JSON parser reads a level from besides "level" (OTHER_LEVEL_KEY). */
const OTHER_KEYS = ['severity', 'lvl', 'levelname', 'log.level', 'loglevel', 'log'].map((k) =>
  Buffer.from(k),
);
const LEVEL_BYTES = Buffer.from('level');

function levelKeyKind(buf: Buffer, s: number, e: number): number {
  const len = e - s;
  if (len < 3 || len > 9) return NOT_LEVEL_KEY;
  const c = buf[s];
  if (c !== 108 && c !== 115) return NOT_LEVEL_KEY; // l, s
  if (len === 5 && sameBytes(buf, s, LEVEL_BYTES)) return LEVEL_KEY;
  for (const k of OTHER_KEYS) if (k.length === len && sameBytes(buf, s, k)) return OTHER_KEY;
  return NOT_LEVEL_KEY;
}

/** Level words met so far, as bytes, with their rank (a handful in any real log). */
const knownWords: { bytes: Buffer; rank: number }[] = [];
const MAX_KNOWN_WORDS = 64;

/**
 * The rank of the value at buf[v] after a "level" key, as valueRank reads it: -1 when it names
 * no level, undefined when not plain (non-ASCII text, a number with a fraction or exponent).
 */
function valueRankAt(buf: Buffer, v: number, e: number): number | undefined {
  const c = buf[v];
  if (c === QUOTE) {
    let w = v + 1;
    while (w < e && buf[w] !== QUOTE) {
      if (buf[w] >= 128) return undefined;
      w++;
    }
    if (w >= e) return undefined;
    const len = w - v - 1;
    for (const k of knownWords) {
      if (k.bytes.length === len && sameBytes(buf, v + 1, k.bytes)) return k.rank;
    }
    const rank = wordRank(buf.toString('latin1', v + 1, w));
    if (knownWords.length < MAX_KNOWN_WORDS) {
      knownWords.push({ bytes: Buffer.from(buf.subarray(v + 1, w)), rank });
    }
    return rank;
  }
  if ((c >= 48 && c <= 57) || c === 45) {
    let n = 0;
    let d = c === 45 ? v + 1 : v;
    const from = d;
    for (; d < e && buf[d] >= 48 && buf[d] <= 57 && d - from < 15; d++) n = n * 10 + buf[d] - 48;
    if (d === from || buf[d] === 46 || buf[d] === 101 || buf[d] === 69) return undefined;
    if (buf[d] >= 48 && buf[d] <= 57) return undefined;
    const level = levelFromNumber(c === 45 ? -n : n);
    return level === undefined ? -1 : LEVEL_RANK[level];
  }
  return -1;
}
