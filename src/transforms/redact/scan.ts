// Finds identifier spans in one string: runs each detector whose gate holds, then merges
// overlapping spans (a URL that contains an email is one URL) into a sorted, disjoint list.

import type { Detector, Gates, Span } from './detectors.js';

const DIGIT = /\d/;
const UPPER = /\p{Lu}/u;

function gatesOf(text: string): Gates {
  return {
    digit: DIGIT.test(text),
    at: text.includes('@'),
    colon: text.includes(':'),
    url: text.includes('://') || text.includes('www.'),
    upper: UPPER.test(text),
    any: true,
  };
}

/** Sorted, non-overlapping spans; where two overlap, the kind of the longer one wins. */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  let cur = { ...(spans[0] as Span) };
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
      cur = { ...s };
      curLongest = s.end - s.start;
    }
  }
  merged.push(cur);
  return merged;
}

export function findSpans(text: string, detectors: readonly Detector[]): Span[] {
  if (text.length < 3) return [];
  const gates = gatesOf(text);
  const out: Span[] = [];
  for (const d of detectors) if (gates[d.gate]) d.scan(text, out);
  return mergeSpans(out);
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
