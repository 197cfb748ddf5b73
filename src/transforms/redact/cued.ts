// Cue-anchored detection. Names, dates, accounts, licences and devices are recognised only
// after a cue word ("patient", "DOB", "acct"). Running one regex per kind over every string
// was the redactor's main cost, so all cue words are found in ONE case-insensitive pass, and
// each kind's value pattern is then tried, sticky, right after the cue that names it.

import type { Detector, Span } from './detectors.js';
import type { Kind } from './kinds.js';

export interface CueEntry {
  kind: Kind;
  cues: readonly string[];
  /** Regex source of the value that follows the cue (after the separator). */
  value: string;
  /** Regex source of what may sit between cue and value; a default covers JSON and logfmt. */
  separator?: string;
  /** The cue is part of the identifier (MRN-12345678) and is replaced with the value. */
  includeCue?: boolean;
  /** Cue words must appear exactly as written (titles: "Dr", not "dr" in "25 ms"). */
  exactCase?: boolean;
  validate?: (value: string) => boolean;
}

/** Spaces, `:`, `=`, `#`, quotes, brackets: `patient: "`, `patient_name="`, `"dob":"`. */
export const DEFAULT_SEPARATOR = `(?:\\.?[\\s:=#"'\\[\\](){}>|,]{1,6}|\\.(?=\\s))(?:on[ \\t]+)?`;

/** Separator then value, sticky; the u flag only when a \\p class needs it (it is slower). */
function stickyValue(entry: CueEntry): RegExp {
  const source = `(?:${entry.separator ?? DEFAULT_SEPARATOR})(${entry.value})`;
  return new RegExp(source, source.includes('\\p') ? 'uy' : 'y');
}

interface CompiledEntry {
  entry: CueEntry;
  sticky: RegExp;
}

/** One cue word and the kinds whose value may follow it. */
interface CompiledCue {
  length: number;
  /** The cue's words; lower case unless exact. Between two, one of space _ . - may stand. */
  parts: string[];
  /** Titles ("Dr") match only as written; other cues in any ASCII case. */
  exact: boolean;
  entries: CompiledEntry[];
}

export function cueDetector(entries: readonly CueEntry[]): Detector {
  const byWord = new Map<string, CompiledCue>();
  for (const entry of entries) {
    const compiled: CompiledEntry = {
      entry,
      sticky: stickyValue(entry),
    };
    for (const word of entry.cues) {
      let cue = byWord.get(word);
      if (!cue) {
        const exact = entry.exactCase === true;
        const parts = (exact ? word : word.toLowerCase()).split(' ');
        cue = { length: word.length, parts, exact, entries: [] };
        byWord.set(word, cue);
      }
      cue.entries.push(compiled);
    }
  }
  const trie = buildTrie(byWord);

  return {
    kind: 'cued',
    gate: 'any',
    pre: undefined,
    scan(text: string, out: Span[]) {
      const n = text.length;
      const { next, cuesOf, single } = trie;
      let i = 0;
      while (i < n) {
        let c = text.charCodeAt(i);
        let k = c < 128 ? (CHAR_CLASS[c] as number) : 0;
        if (k === 0) {
          i++;
          continue;
        }
        // A word starts at i: follow its letters down the trie, remembering the deepest node
        // where some cue's first word ends.
        let at = 0;
        let hit = 0;
        let j = i;
        while (k >= 2) {
          at = next[at * 26 + k - 2] as number;
          if (at === 0) break;
          if (cuesOf[at] !== undefined) hit = at;
          if (++j >= n) break;
          c = text.charCodeAt(j);
          k = c < 128 ? (CHAR_CLASS[c] as number) : 0;
        }
        // A one-letter lead ("s" of s/n, "d" of d.o.b) needs a non-letter right after it.
        if (hit !== 0 && !(single[hit] === 1 && i + 1 < n && isLetter(text.charCodeAt(i + 1)))) {
          // Longest cue first; a longer cue that matches without its value ("patient No…"
          // read as "patient no") falls back to a shorter one ("patient").
          for (const cue of cuesOf[hit] as CompiledCue[]) {
            const end = matchCue(cue, text, i);
            if (end >= 0 && valuesAfter(cue, text, i, end, out)) break;
          }
        }
        while (j < n) {
          c = text.charCodeAt(j);
          if (c >= 128 || CHAR_CLASS[c] === 0) break;
          j++;
        }
        i = j;
      }
    },
  };
}

/**
 * ASCII character classes for the word walk: 0 not a word character (as `\\b` sees it),
 * 1 a digit or underscore, 2 + n the letter n of the alphabet in either case.
 */
const CHAR_CLASS = (() => {
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = 1;
  t[95] = 1;
  for (let n = 0; n < 26; n++) {
    t[65 + n] = 2 + n;
    t[97 + n] = 2 + n;
  }
  return t;
})();

const isLetter = (c: number) => c < 128 && (CHAR_CLASS[c] as number) >= 2;

/**
 * Where the cue ends when it stands at `from`, or -1. Compared in JavaScript rather than with
 * a regex per cue: most tries fail on the first or second character, before a regex call
 * would even have been set up.
 */
function matchCue(cue: CompiledCue, text: string, from: number): number {
  let at = from;
  const { parts, exact } = cue;
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) {
      const c = text.charCodeAt(at);
      if (c === 32 || c === 95 || c === 46 || c === 45) at++;
    }
    const part = parts[p] as string;
    if (at + part.length > text.length) return -1;
    for (let k = 0; k < part.length; k++) {
      const c = text.charCodeAt(at + k);
      const want = part.charCodeAt(k);
      if (c !== want && (exact || c < 65 || c > 90 || c + 32 !== want)) return -1;
    }
    at += part.length;
  }
  return at;
}

/** A span of this kind starting within a short separator's reach after the cue. */
function foundAfter(out: readonly Span[], kind: string, cueEnd: number): boolean {
  for (let k = 0; k < out.length; k++) {
    const s = out[k] as Span;
    if (s.kind === kind && s.start >= cueEnd && s.start <= cueEnd + 3) return true;
  }
  return false;
}

/** Pushes the value of each kind that follows the cue; true when any did. */
function valuesAfter(cue: CompiledCue, text: string, start: number, cueEnd: number, out: Span[]) {
  let any = false;
  for (const c of cue.entries) {
    // "SSN 123-45-6789", "phone (217) 555-0123": the shape detectors, which run first, often
    // found the value already; then the cue has done its job without another match.
    if (!c.entry.includeCue && foundAfter(out, c.entry.kind, cueEnd)) {
      any = true;
      continue;
    }
    c.sticky.lastIndex = cueEnd;
    const v = c.sticky.exec(text);
    const value = v?.[1];
    if (!v || !value || (c.entry.validate && !c.entry.validate(value))) continue;
    const end = cueEnd + v[0].length;
    out.push({ start: c.entry.includeCue ? start : end - value.length, end, kind: c.entry.kind });
    any = true;
  }
  return any;
}

/**
 * A flat trie over the lower-case leading letters of each cue, up to its first non-letter
 * ("patient name" → patient, "s/n" → s). A cue can match at a word start only if those
 * letters begin the word, so walking the trie rejects almost every word in a few typed-array
 * reads (a JavaScript loop over the string was cheaper than one big case-insensitive
 * alternation regex). `cuesOf[node]`: every cue whose first word is a prefix of the node's
 * letters, longest first.
 */
interface Trie {
  next: Int32Array;
  cuesOf: Array<CompiledCue[] | undefined>;
  /** Nodes one letter deep: their cues cannot match inside a longer word. */
  single: Uint8Array;
}

function buildTrie(cues: ReadonlyMap<string, CompiledCue>): Trie {
  const edges: number[][] = [new Array<number>(26).fill(0)];
  const own: CompiledCue[][] = [[]];
  const parent: number[] = [0];
  for (const [word, cue] of cues) {
    let at = 0;
    const lead = /^[a-z]*/i.exec(word)?.[0].toLowerCase() ?? '';
    for (let i = 0; i < lead.length; i++) {
      const k = lead.charCodeAt(i) - 97;
      const row = edges[at] as number[];
      if (row[k] === 0) {
        row[k] = edges.length;
        edges.push(new Array<number>(26).fill(0));
        own.push([]);
        parent.push(at);
      }
      at = row[k] as number;
    }
    (own[at] as CompiledCue[]).push(cue);
  }
  const next = new Int32Array(edges.length * 26);
  edges.forEach((row, i) => next.set(row, i * 26));
  const cuesOf = own.map((_, node) => {
    const all: CompiledCue[] = [];
    for (let at = node; ; at = parent[at] as number) {
      all.push(...(own[at] as CompiledCue[]));
      if (at === 0) break;
    }
    return all.length ? all.sort((x, y) => y.length - x.length) : undefined;
  });
  const single = new Uint8Array(edges.length);
  for (const k of edges[0] as number[]) if (k !== 0) single[k] = 1;
  return { next, cuesOf, single };
}
