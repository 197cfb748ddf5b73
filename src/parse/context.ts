// What every format parser needs besides the line: the zone, the reference time and the
// year rule. Built once per parser, not per line.

import type { LogRecord } from '../record/record.js';
import type { ParseOptions } from './options.js';
import { Zone } from './time.js';
import { optionError } from '../errors.js';

export interface ParseContext {
  zone: Zone;
  assumeYear?: number;
  /** The reference time: --now, or the clock. */
  now(): number;
}

/** A format parser: the record, or undefined when the line is not in its format. */
export type FormatParser = (
  line: string,
  ctx: ParseContext,
  refMs: number,
) => LogRecord | undefined;

const zones = new Map<string, Zone>();

export function contextFor(opts: ParseOptions): ParseContext {
  const tz = opts.timezone ?? 'UTC';
  let zone = zones.get(tz);
  if (!zone) {
    zone = new Zone(tz);
    zones.set(tz, zone);
  }
  const fixed = opts.now;
  if (fixed !== undefined && !Number.isFinite(fixed)) {
    throw optionError('parse', 'now', fixed, 'expected epoch milliseconds');
  }
  if (opts.assumeYear !== undefined) {
    const y = opts.assumeYear;
    if (!Number.isInteger(y) || y < 1 || y > 9999) {
      throw optionError('parse', 'assumeYear', y, 'expected a year from 1 to 9999');
    }
  }
  return {
    zone,
    assumeYear: opts.assumeYear,
    now: fixed !== undefined ? () => fixed : Date.now,
  };
}
