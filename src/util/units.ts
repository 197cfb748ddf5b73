// Parsing of the human units used by flags and config files: durations ("30s", "1h", "7d")
// and byte sizes ("64MiB", "10MB", "1GiB"). One place, so every command reads them alike.

import { ConfigError } from '../errors.js';

const DURATION_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses "250ms", "30s", "15m", "2h", "7d", "1w" or a bare number of seconds into ms. */
export function parseDurationMs(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(text);
  if (!m) {
    throw new ConfigError(
      `${what}: "${text}" is not a duration; use e.g. 500ms, 30s, 15m, 2h, 7d.`,
    );
  }
  return Math.round(Number(m[1]) * DURATION_MS[m[2] ?? 's']);
}

const SIZE_BYTES: Record<string, number> = {
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Parses "512", "64KiB", "10MB", "1GiB" (SI and binary suffixes, any case) into bytes. */
export function parseSizeBytes(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? (m[2] || 'b').toLowerCase() : '';
  if (!m || SIZE_BYTES[unit] === undefined) {
    throw new ConfigError(`${what}: "${text}" is not a size; use e.g. 4096, 64KiB, 10MB, 1GiB.`);
  }
  return Math.round(Number(m[1]) * SIZE_BYTES[unit]);
}

/** Parses a whole number flag, naming the flag when it is not one. */
export function parsePositiveInt(text: string, what: string, allowZero = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || (!allowZero && n === 0)) {
    const expected = allowZero ? 'a whole number, 0 or more' : 'a whole number above 0';
    throw new ConfigError(`${what}: "${text}" is not ${expected}.`);
  }
  return n;
}

/** Formats a byte count for people: 1.5 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${value} B` : `${value.toFixed(1)} ${units[i]}`;
}
