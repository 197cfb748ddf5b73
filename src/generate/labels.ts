// Ground truth for each generated line (--labels): its scenario state and entity, and for
// patient data the exact spans in the line, so redaction can be scored.

import type { GenEvent, PhiKind, PhiSpan } from './event.js';
import { escapedLength, type SlotRecorder } from './formats.js';

export interface PhiLabel {
  kind: PhiKind;
  /** The exact text of the line between start and end. */
  text: string;
  /** Offsets in the line, UTF-16 code units (JavaScript string indices), end exclusive. */
  start: number;
  end: number;
  /** The same span in UTF-8 bytes of the line. */
  byte_start: number;
  byte_end: number;
  /** Where `sluice parse` puts the value that holds it (dotted record path). */
  field: string;
  /** The span inside that field's (unescaped) value. */
  field_start: number;
  field_end: number;
}

export interface LineLabel {
  line: number;
  state: string;
  entity: string;
  level: string;
  phi: PhiLabel[];
}

/** The unescaped text a slot holds in an event. */
export function slotText(ev: GenEvent, slot: string): string {
  switch (slot) {
    case 'message':
      return ev.message;
    case 'http.path':
      return ev.request.path;
    case 'http.query':
      return ev.request.query;
    case 'http.referrer':
      return ev.request.referrer;
    case 'http.client_ip':
      return ev.request.clientIp;
    default:
      return slot.startsWith('fields.') ? String(ev.fields[slot.slice(7)] ?? '') : '';
  }
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function spanLabel(ev: GenEvent, line: string, span: PhiSpan, rec: SlotRecorder): PhiLabel[] {
  const out: PhiLabel[] = [];
  const text = slotText(ev, span.slot);
  for (const place of rec) {
    if (place.slot !== span.slot) continue;
    const start = place.at + escapedLength(text.slice(0, span.start), place.escape);
    const end = place.at + escapedLength(text.slice(0, span.end), place.escape);
    const byteStart = utf8Length(line.slice(0, start));
    out.push({
      kind: span.kind,
      text: line.slice(start, end),
      start,
      end,
      byte_start: byteStart,
      byte_end: byteStart + utf8Length(line.slice(start, end)),
      field: place.field,
      field_start: span.start,
      field_end: span.end,
    });
  }
  return out;
}

/** The label of one line; spans of slots this format did not write are left out. */
export function labelLine(ev: GenEvent, line: string, rec: SlotRecorder): LineLabel {
  const phi: PhiLabel[] = [];
  for (const span of ev.phi) phi.push(...spanLabel(ev, line, span, rec));
  phi.sort((a, b) => a.start - b.start);
  return { line: ev.seq, state: ev.state, entity: ev.entity, level: ev.level, phi };
}
