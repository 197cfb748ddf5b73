// Finds identifier spans in one string: runs each detector whose gate holds, then merges
// overlapping spans (a URL that contains an email is one URL) into a sorted, disjoint list.

import type { Detector, Gates, Span } from './detectors.js';

const DIGIT = /\d/;

/**
 * Facts that let whole groups of detectors skip a string, each found by one native scan
 * (regex test or includes), which is several times cheaper here than a JavaScript loop over
 * the characters. Finer checks sit on each detector (`pre`).
 */
const GATES: Gates = { digit: false, at: false, colon: false, url: false, any: true };

function gatesOf(text: string): Gates {
  // One object reused: the redactor is synchronous and gates are read before the next call.
  const g = GATES;
  g.colon = text.includes(':');
  g.digit = DIGIT.test(text);
  g.at = text.includes('@');
  g.url = (g.colon && text.includes('://')) || text.includes('www.');
  return g;
}

/** True when `ch` occurs at least `n` times (stops at the n-th). */
export function hasAtLeast(text: string, ch: string, n: number): boolean {
  let at = -1;
  for (let k = 0; k < n; k++) {
    at = text.indexOf(ch, at + 1);
    if (at < 0) return false;
  }
  return true;
}

/**
 * Sorted, non-overlapping spans; where two overlap, the kind of the longer one wins. Changes
 * the span objects given (they must be the caller's own).
 */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  // The spans are this call's own objects: merged in place, not copied.
  const merged: Span[] = [];
  let cur = spans[0] as Span;
  let curLongest = cur.end - cur.start;
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i] as Span;
    if (s.start < cur.end) {
      if (s.end - s.start > curLongest) {
        curLongest = s.end - s.start;
        cur.kind = s.kind;
      }
      if (s.end > cur.end) cur.end = s.end;
    } else {
      merged.push(cur);
      cur = s;
      curLongest = s.end - s.start;
    }
  }
  merged.push(cur);
  return merged;
}

/** A switch on the gate name: cheaper than a keyed property read with a varying key. */
function open(g: Gates, gate: keyof Gates): boolean {
  switch (gate) {
    case 'digit':
      return g.digit;
    case 'at':
      return g.at;
    case 'colon':
      return g.colon;
    case 'url':
      return g.url;
    default:
      return true;
  }
}

const SCRATCH: Span[] = [];
// Frozen: callers get it back for strings without identifiers and must not change it.
const NONE = Object.freeze([]) as unknown as Span[];

export function findSpans(text: string, detectors: readonly Detector[]): Span[] {
  if (text.length < 3) return NONE;
  const gates = gatesOf(text);
  const out = SCRATCH;
  if (out.length !== 0) out.length = 0;
  for (let k = 0; k < detectors.length; k++) {
    const d = detectors[k] as Detector;
    if (open(gates, d.gate) && (d.pre === undefined || d.pre(text))) d.scan(text, out);
  }
  // Most strings hold nothing: the scratch array is reused and only copied when it is not empty.
  if (out.length === 0) return NONE;
  return out.length === 1 ? [out[0] as Span] : mergeSpans(out.slice());
}

/** Rebuilds the string with each span replaced by what `replace` returns for it. */
export function applySpans(
  text: string,
  spans: readonly Span[],
  replace: (kind: string, value: string) => string,
): string {
  let result = '';
  let at = 0;
  for (const s of spans) {
    result += text.slice(at, s.start) + replace(s.kind, text.slice(s.start, s.end));
    at = s.end;
  }
  return result + text.slice(at);
}
