// Timestamps per SCHEMA.md: civil times read in a zone (--timezone, default UTC), years
// inferred for RFC 3164, fractions truncated to milliseconds, offsets applied. Hand-written
// digit readers: these run once per line on the hot path.

import { ConfigError } from '../errors.js';

const MONTH_NAMES = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
];
/** Three lower-case letters packed into one number → month; no string is made per lookup. */
const MONTH_CODES = new Map<number, number>(
  MONTH_NAMES.map((m, i) => [
    (m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2),
    i + 1,
  ]),
);

/** Month number (1-12) of a three-letter English month name in any case, else 0. */
export function monthNumber(s: string, at: number): number {
  const code =
    ((s.charCodeAt(at) | 0x20) << 16) |
    ((s.charCodeAt(at + 1) | 0x20) << 8) |
    (s.charCodeAt(at + 2) | 0x20);
  return MONTH_CODES.get(code) ?? 0;
}

/** The value of `n` ASCII digits at `at`, or -1 when any of them is not a digit. */
export function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(at + i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validCivil(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  return (
    y >= 0 &&
    mo >= 1 &&
    mo <= 12 &&
    d >= 1 &&
    d <= daysInMonth(y, mo) &&
    h >= 0 &&
    h <= 23 &&
    mi >= 0 &&
    mi <= 59 &&
    s >= 0 &&
    s <= 60
  );
}

/**
 * Converts civil times in one IANA zone to epoch ms. UTC is exact arithmetic; other zones ask
 * Intl for the offset and cache it per quarter hour, since offsets only change at transitions.
 */
export class Zone {
  readonly utc: boolean;
  private readonly dtf?: Intl.DateTimeFormat;
  private readonly offsetCache = new Map<number, number>();

  constructor(readonly name = 'UTC') {
    const upper = name.toUpperCase();
    this.utc = upper === 'UTC' || upper === 'Z' || upper === 'ETC/UTC' || upper === 'GMT';
    if (!this.utc) {
      try {
        this.dtf = new Intl.DateTimeFormat('en-US', {
          timeZone: name,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
      } catch {
        throw new ConfigError(
          `--timezone: "${name}" is not a time zone; use an IANA name such as Europe/Paris or UTC.`,
        );
      }
    }
  }

  /** Offset of the zone from UTC in ms at the instant `epochMs`. */
  offsetAt(epochMs: number): number {
    if (!this.dtf) return 0;
    const key = Math.floor(epochMs / 900_000);
    const hit = this.offsetCache.get(key);
    if (hit !== undefined) return hit;
    const parts = this.dtf.formatToParts(new Date(key * 900_000));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
    const asUtc = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    const offset = asUtc - key * 900_000;
    if (this.offsetCache.size > 4096) this.offsetCache.clear();
    this.offsetCache.set(key, offset);
    return offset;
  }

  /** Epoch ms of a civil time read in this zone; NaN when the fields are out of range. */
  civil(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
    if (!validCivil(y, mo, d, h, mi, s)) return NaN;
    const asUtc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    if (this.utc) return asUtc;
    // Two passes find the right offset on both sides of a DST change.
    const first = asUtc - this.offsetAt(asUtc);
    const second = asUtc - this.offsetAt(first);
    return second;
  }
}

/** Epoch ms of a UTC civil time with an explicit offset in minutes; NaN when out of range. */
export function civilWithOffset(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
  offsetMinutes: number,
): number {
  if (!validCivil(y, mo, d, h, mi, s)) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes * 60_000;
}

/**
 * The year for a date printed without one (RFC 3164): the year that puts the event closest to
 * `refMs` without being more than a day after it, among years in which the date exists.
 */
export function inferYear(
  zone: Zone,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  refMs: number,
): number {
  const refYear = new Date(refMs).getUTCFullYear();
  let best = NaN;
  let bestDist = Infinity;
  for (let y = refYear + 1; y >= refYear - 8; y--) {
    if (d > daysInMonth(y, mo)) continue;
    const t = zone.civil(y, mo, d, h, mi, s, 0);
    if (Number.isNaN(t) || t > refMs + 86_400_000) continue;
    const dist = Math.abs(refMs - t);
    if (dist < bestDist) {
      bestDist = dist;
      best = y;
    }
    // Years further back only get further away once one candidate is in the past.
    if (t <= refMs && !Number.isNaN(best)) break;
  }
  return best;
}

/** The parsed fraction of a second: whole ms (truncated) and where the digits end. */
function readFraction(s: string, at: number): { ms: number; end: number } {
  let ms = 0;
  let n = 0;
  let i = at;
  for (; i < s.length; i++) {
    const dd = s.charCodeAt(i) - 48;
    if (dd < 0 || dd > 9) break;
    if (n < 3) ms = ms * 10 + dd;
    n++;
  }
  while (n < 3 && n > 0) {
    ms *= 10;
    n++;
  }
  return { ms, end: i };
}

export interface ParsedTime {
  epochMs: number;
  /** Index just after the timestamp text. */
  end: number;
}

/**
 * Reads an ISO 8601 / RFC 3339 timestamp at `at`: `YYYY-MM-DD[T ]HH:MM:SS[.,fraction]` then
 * `Z`, `±HH:MM`, `±HHMM` or nothing (then the civil time is read in `zone`). Returns undefined
 * when the text is not such a timestamp.
 */
export function readIsoTime(s: string, at: number, zone: Zone): ParsedTime | undefined {
  if (s.charCodeAt(at + 4) !== 45 || s.charCodeAt(at + 7) !== 45) return undefined;
  const sep = s.charCodeAt(at + 10);
  if (sep !== 84 && sep !== 32 && sep !== 116) return undefined;
  if (s.charCodeAt(at + 13) !== 58 || s.charCodeAt(at + 16) !== 58) return undefined;
  const y = digits(s, at, 4);
  const mo = digits(s, at + 5, 2);
  const d = digits(s, at + 8, 2);
  const h = digits(s, at + 11, 2);
  const mi = digits(s, at + 14, 2);
  const sec = digits(s, at + 17, 2);
  if ((y | mo | d | h | mi | sec) < 0) return undefined;
  let i = at + 19;
  let ms = 0;
  const c = s.charCodeAt(i);
  if (c === 46 || c === 44) {
    const f = readFraction(s, i + 1);
    if (f.end === i + 1) return undefined;
    ms = f.ms;
    i = f.end;
  }
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    const t = civilWithOffset(y, mo, d, h, mi, sec, ms, 0);
    return Number.isNaN(t) ? undefined : { epochMs: t, end: i + 1 };
  }
  if (z === 43 || z === 45) {
    const oh = digits(s, i + 1, 2);
    let om = 0;
    let end = i + 3;
    if (s.charCodeAt(i + 3) === 58) {
      om = digits(s, i + 4, 2);
      end = i + 6;
    } else if (digits(s, i + 3, 2) >= 0) {
      om = digits(s, i + 3, 2);
      end = i + 5;
    }
    if (oh >= 0 && om >= 0) {
      const off = (oh * 60 + om) * (z === 45 ? -1 : 1);
      const t = civilWithOffset(y, mo, d, h, mi, sec, ms, off);
      return Number.isNaN(t) ? undefined : { epochMs: t, end };
    }
  }
  const t = zone.civil(y, mo, d, h, mi, sec, ms);
  return Number.isNaN(t) ? undefined : { epochMs: t, end: i };
}

/**
 * A timestamp value from a JSON or logfmt key: epoch ms or s (number or numeric string), or
 * ISO 8601. NaN when it is neither.
 */
export function timeValueToEpochMs(value: unknown, zone: Zone): number {
  if (typeof value === 'number') return epochNumberToMs(value);
  if (typeof value === 'bigint') return epochNumberToMs(Number(value));
  if (typeof value !== 'string' || value.length === 0) return NaN;
  const c = value.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const iso = readIsoTime(value, 0, zone);
    if (iso) return iso.epochMs;
    if (/^\d+(\.\d+)?$/.test(value)) return epochNumberToMs(Number(value));
  }
  return NaN;
}

/** Epoch numbers: seconds, milliseconds, microseconds or nanoseconds told apart by size. */
function epochNumberToMs(n: number): number {
  if (!Number.isFinite(n) || n < 0) return NaN;
  if (n < 1e11) return Math.floor(n * 1000);
  if (n < 1e14) return Math.floor(n);
  if (n < 1e17) return Math.floor(n / 1000);
  return Math.floor(n / 1e6);
}

let apacheText = '';
let apacheMs = NaN;

/** Reads `dd/Mon/yyyy:HH:MM:SS ±zzzz` (Apache %t without brackets) at `at`; NaN if not. */
export function readApacheTime(s: string, at: number): number {
  // Lines of one second share the text: one native comparison instead of reading the digits.
  if (sameApacheText(s, at)) return apacheMs;
  const t = readApacheTimeDigits(s, at);
  if (!Number.isNaN(t)) {
    apacheText = s.slice(at, at + APACHE_TIME_CHARS);
    apacheMs = t;
  }
  return t;
}

const APACHE_TIME_CHARS = 26;

/**
 * Whether `s` holds the cached time text at `at`. A substring and one string comparison (a
 * native memory compare) measured about 3 times faster than comparing 26 characters in a loop.
 */
function sameApacheText(s: string, at: number): boolean {
  return (
    apacheText.length === APACHE_TIME_CHARS &&
    s.substring(at, at + APACHE_TIME_CHARS) === apacheText
  );
}

function readApacheTimeDigits(s: string, at: number): number {
  if (s.charCodeAt(at + 2) !== 47 || s.charCodeAt(at + 6) !== 47) return NaN;
  const d = digits(s, at, 2);
  const mo = monthNumber(s, at + 3);
  const y = digits(s, at + 7, 4);
  const h = digits(s, at + 12, 2);
  const mi = digits(s, at + 15, 2);
  const sec = digits(s, at + 18, 2);
  const sign = s.charCodeAt(at + 21);
  const oh = digits(s, at + 22, 2);
  const om = digits(s, at + 24, 2);
  if ((d | y | h | mi | sec | oh | om) < 0 || mo === 0) return NaN;
  if (sign !== 43 && sign !== 45) return NaN;
  const off = (oh * 60 + om) * (sign === 45 ? -1 : 1);
  return civilWithOffset(y, mo, d, h, mi, sec, 0, off);
}

const PAD2: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let cachedDay = NaN;
let cachedDayText = '';
let cachedSecond = NaN;
let cachedSecondText = '';
let lastInstant = NaN;
let lastText = '';

/**
 * Formats epoch ms per SCHEMA.md (`2026-03-01T08:15:02.120Z`); out-of-range instants fall back
 * to `fallbackMs`. Consecutive lines mostly share the second, so `YYYY-MM-DDTHH:MM:SS.` is
 * cached per second (and the date per day: Date#toISOString costs about 1 µs a call) and only
 * the milliseconds are appended.
 */
export function isoMs(epochMs: number, fallbackMs: number): string {
  // Years outside 0000-9999 have no RFC 3339 form.
  const ok = epochMs >= -62_167_219_200_000 && epochMs <= 253_402_300_799_999;
  const t = ok ? Math.floor(epochMs) : fallbackMs;
  // Access logs have whole seconds: consecutive lines often share the instant itself.
  if (t === lastInstant) return lastText;
  const second = Math.floor(t / 1000);
  if (second !== cachedSecond) {
    const day = Math.floor(second / 86_400);
    if (day !== cachedDay) {
      cachedDay = day;
      cachedDayText = new Date(day * 86_400_000).toISOString().slice(0, 11);
    }
    let rest = second - day * 86_400;
    const h = Math.floor(rest / 3600);
    rest -= h * 3600;
    const m = Math.floor(rest / 60);
    cachedSecond = second;
    cachedSecondText = cachedDayText + PAD2[h] + ':' + PAD2[m] + ':' + PAD2[rest - m * 60] + '.';
  }
  lastInstant = t;
  lastText = cachedSecondText + PAD3[t - second * 1000] + 'Z';
  return lastText;
}
