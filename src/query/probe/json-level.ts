// The level of NDJSON lines read off their bytes. A JSON line's level comes only from its level
// keys (SCHEMA.md), not from words in its message, so in a block of JSON lines whose only level
// key is "level", a line is a candidate for --level L only when a "level" value in it reaches
// L; a line without the key is info. The block is searched as one latin1 string, jumping from
// one "level" key to the next, so lines below the level are never looked at one by one.

import { LEVEL_RANK, type Level } from '../../record/record.js';
import { levelFromNumber, levelFromValue, levelFromWord } from '../../parse/level.js';

const LEVEL_KEY = '"level"';
/** Another key the JSON parser reads a level from: a block with one is not simple. */
const OTHER_LEVEL_KEY = /"(?:severity|lvl|levelname|log\.level|loglevel|log)"/;
/** True when the block starts as JSON and "level" is the only level key in it. */
export function isSimpleJsonBlock(text: string): boolean {
  return text.charCodeAt(0) === 123 && !OTHER_LEVEL_KEY.test(text);
}

/**
 * Starts of the lines of a simple JSON block (as latin1 text) that may be at `min` or above:
 * JSON lines with a "level" value that reaches it or cannot be read plainly, a second "level"
 * key, or a backslash (an escape could hide a key); and every line that is not a JSON object,
 * which the word-based level check then looks at. In ascending order.
 */
export function jsonLevelCandidates(text: string, min: Level): number[] {
  const minRank = LEVEL_RANK[min];
  const starts: number[] = [];
  const end = text.length;
  let s = 0;
  let k = text.indexOf(LEVEL_KEY);
  while (s < end) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = end;
    if (text.charCodeAt(s) !== 123) {
      if (e > s) starts.push(s);
    } else if (k >= 0 && k < e) {
      const rank = valueRank(text, k + 7);
      k = text.indexOf(LEVEL_KEY, k + 7);
      // A second "level" in the line (nested or duplicate) is not worth reasoning about.
      if (rank === undefined || rank >= minRank || (k >= 0 && k < e)) starts.push(s);
    }
    // Otherwise a JSON line without a level key: info, below any prefiltered level.
    while (k >= 0 && k < e) k = text.indexOf(LEVEL_KEY, k + 7);
    s = e + 1;
  }
  const escaped: number[] = [];
  for (let b = text.indexOf('\\'); b >= 0;) {
    escaped.push(text.lastIndexOf('\n', b) + 1);
    const e = text.indexOf('\n', b);
    if (e < 0) break;
    b = text.indexOf('\\', e);
  }
  if (escaped.length === 0) return starts;
  return [...new Set([...starts, ...escaped])].sort((a, b) => a - b);
}

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

/**
 * The level rank of the value after a "level" key ending at `i`: -1 when the value names no
 * level (the record is then info), undefined when it is not a plain key-value.
 */
function valueRank(text: string, i: number): number | undefined {
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  if (text.charCodeAt(i) !== 58) return undefined; // "level" was a value, not a key
  i++;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  const c = text.charCodeAt(i);
  let level: Level | undefined;
  if (c === 34) {
    const close = text.indexOf('"', i + 1);
    const nl = text.indexOf('\n', i);
    if (close < 0 || (nl >= 0 && close > nl)) return undefined;
    return wordRank(text.slice(i + 1, close));
  } else if ((c >= 48 && c <= 57) || c === 45) {
    const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 32));
    if (!m) return undefined;
    level = levelFromNumber(Number(m[0]));
  } else {
    return -1;
  }
  return level === undefined ? -1 : LEVEL_RANK[level];
}
