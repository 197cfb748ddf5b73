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

const cueKey = (text: string) => text.toLowerCase().replace(/[ _.-]/g, '');

function escapeCue(word: string): string {
  return word
    .split(' ')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/#']/g, '\\$&'))
    .join('[ _.-]?');
}

interface CompiledEntry {
  entry: CueEntry;
  sticky: RegExp;
  exact: Set<string> | undefined;
}

export function cueDetector(entries: readonly CueEntry[]): Detector {
  const byCue = new Map<string, CompiledEntry[]>();
  const words = new Set<string>();
  for (const entry of entries) {
    const compiled: CompiledEntry = {
      entry,
      sticky: new RegExp(`${entry.separator ?? DEFAULT_SEPARATOR}(?<v>${entry.value})`, 'uy'),
      exact: entry.exactCase ? new Set(entry.cues) : undefined,
    };
    for (const cue of entry.cues) {
      words.add(cue);
      const key = cueKey(cue);
      byCue.set(key, [...(byCue.get(key) ?? []), compiled]);
    }
  }
  const sorted = [...words].sort((a, b) => b.length - a.length).map(escapeCue);
  // ASCII-only and case-insensitive: safe to use the i flag here, unlike in patterns with
  // \p{Lu}, where i would make "upper-case letter" match any letter.
  const finder = new RegExp(`\\b(?:${sorted.join('|')})`, 'gi');

  return {
    kind: 'cued',
    gate: 'any',
    scan(text: string, out: Span[]) {
      finder.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = finder.exec(text)) !== null) {
        const cueEnd = m.index + m[0].length;
        for (const c of byCue.get(cueKey(m[0])) ?? []) {
          if (c.exact && !c.exact.has(m[0])) continue;
          c.sticky.lastIndex = cueEnd;
          const v = c.sticky.exec(text);
          const value = v?.groups?.v;
          if (!v || !value || (c.entry.validate && !c.entry.validate(value))) continue;
          const end = cueEnd + v[0].length;
          out.push({
            start: c.entry.includeCue ? m.index : end - value.length,
            end,
            kind: c.entry.kind,
          });
        }
        finder.lastIndex = cueEnd;
      }
    },
  };
}
