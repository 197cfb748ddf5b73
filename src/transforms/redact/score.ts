// Scores the redactor against the generator's ground truth: generated lines of a scenario with
// labels (exact spans of every piece of patient data), parsed as sluice parses them, then
// redacted. Recall: every labelled span must lie inside what the redactor replaces, and its
// text must be gone from the redacted field. Precision figure: the share of replaced
// characters outside any labelled span. The redactor never sees the generator's name lists;
// only the labels are used, and only to score.

import type { JsonValue, LogRecord } from '../../record/record.js';
import { InputError } from '../../errors.js';
import { createGenerator } from '../../generate/generator.js';
import type { GeneratedFormat } from '../../generate/formats.js';
import type { PhiLabel } from '../../generate/labels.js';
import { createLineParser } from '../../parse/index.js';
import type { FieldSpans, Redactor } from './redactor.js';

export interface ScoreOptions {
  format: GeneratedFormat;
  lines: number;
  scenario?: string;
  seed?: string | number;
  /** Misses kept in the result for the report (all are counted). */
  keepMisses?: number;
}

export interface Miss {
  line: string;
  label: PhiLabel;
  /** The field after redaction (or why it could not be checked). */
  redacted: string;
}

export interface Score {
  format: GeneratedFormat;
  lines: number;
  records: number;
  labelled: number;
  missed: number;
  misses: Miss[];
  /** Characters the redactor replaced, over all fields. */
  redactedChars: number;
  /** Of those, characters not inside any labelled span. */
  outsideChars: number;
  /** Seconds spent in parse + redact (not generation or scoring). */
  seconds: number;
}

/** The value at a dotted path (`fields.a.b`, `syslog.structured_data.ID.KEY`). */
function valueAt(record: LogRecord, path: string): JsonValue | undefined {
  const [head, ...rest] = path.split('.');
  let at: JsonValue | undefined = (record as unknown as Record<string, JsonValue>)[head as string];
  if (head === 'syslog' && rest[0] === 'structured_data') {
    const sd = record.syslog?.structured_data;
    return sd?.[rest[1] as string]?.[rest.slice(2).join('.')];
  }
  for (const part of rest) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, JsonValue>)[part];
  }
  return at;
}

function covered(spans: FieldSpans['spans'], start: number, end: number): boolean {
  // Spans are sorted and disjoint; a label may straddle two adjacent spans.
  let at = start;
  for (const s of spans) {
    if (s.start <= at && s.end > at) at = s.end;
    if (at >= end) return true;
  }
  return at >= end;
}

function outside(field: FieldSpans, labels: readonly PhiLabel[]): number {
  let n = 0;
  for (const s of field.spans) {
    for (let i = s.start; i < s.end; i++) {
      if (!labels.some((l) => i >= l.field_start && i < l.field_end)) n++;
    }
  }
  return n;
}

export function scoreRedaction(redactor: Redactor, opts: ScoreOptions): Score {
  const gen = createGenerator({
    format: opts.format,
    scenario: opts.scenario ?? 'healthcare',
    seed: opts.seed ?? 1,
    startTimeMs: Date.UTC(2026, 2, 1, 8),
    ratePerSec: 100,
  });
  const parser = createLineParser({ now: Date.UTC(2026, 2, 1, 8) });
  const score: Score = {
    format: opts.format,
    lines: 0,
    records: 0,
    labelled: 0,
    missed: 0,
    misses: [],
    redactedChars: 0,
    outsideChars: 0,
    seconds: 0,
  };
  const out: LogRecord[] = [];
  for (let n = 0; n < opts.lines; n++) {
    const { line, label } = gen.labelledLine(gen.nextEvent());
    out.length = 0;
    const t0 = process.hrtime.bigint();
    parser.push(line, out);
    const record = out[0];
    if (!record || out.length !== 1) {
      throw new InputError(`score: line ${n + 1} gave ${out.length} records: ${line}`);
    }
    const fields = redactor.inspectRecord(record);
    redactor.redactRecord(record);
    score.seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    score.lines++;
    score.records++;
    for (const f of fields) {
      const labels = label.phi.filter((l) => l.field === f.path);
      score.redactedChars += f.spans.reduce((a, s) => a + s.end - s.start, 0);
      score.outsideChars += outside(f, labels);
    }
    for (const l of label.phi) {
      score.labelled++;
      const f = fields.find((x) => x.path === l.field);
      const after = valueAt(record, l.field);
      const text = f?.value.slice(l.field_start, l.field_end);
      const ok =
        f !== undefined &&
        covered(f.spans, l.field_start, l.field_end) &&
        typeof after === 'string' &&
        text !== undefined &&
        !after.includes(text);
      if (!ok) {
        score.missed++;
        if (score.misses.length < (opts.keepMisses ?? 20)) {
          score.misses.push({
            line,
            label: l,
            redacted: after === undefined ? `(no field ${l.field})` : String(after),
          });
        }
      }
    }
  }
  return score;
}
