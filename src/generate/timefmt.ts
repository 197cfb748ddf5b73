// Timestamp text for each format, cached per second: at a million lines a second most lines
// share their second with the line before, so Date arithmetic runs once per second, not per line.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function three(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n);
}

/** Renders one layout of a UTC time; `second` gets the whole second, `fraction` the ms part. */
type SecondLayout = (d: Date) => string;

/** Caches a per-second rendering; `withMs` appends the millisecond fraction through `tail`. */
class SecondCache {
  private sec = Number.NaN;
  private text = '';
  constructor(private readonly layout: SecondLayout) {}

  at(epochMs: number): string {
    const sec = Math.floor(epochMs / 1000);
    if (sec !== this.sec) {
      this.sec = sec;
      this.text = this.layout(new Date(sec * 1000));
    }
    return this.text;
  }
}

/** `02/Nov/2020:08:41:10 +0000` (Apache %t, without brackets). */
export function apacheAccessTime(): (ms: number) => string {
  const cache = new SecondCache(
    (d) =>
      `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
      `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`,
  );
  return (ms) => cache.at(ms);
}

/** `Wed Oct 11 14:32:52.123000 2000` (Apache 2.4 error log, microseconds). */
export function apacheErrorTime(): (ms: number) => string {
  const head = new SecondCache(
    (d) =>
      `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ` +
      `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.`,
  );
  const year = new SecondCache((d) => ` ${d.getUTCFullYear()}`);
  return (ms) => head.at(ms) + three(ms % 1000) + '000' + year.at(ms);
}

/** `2023/11/02 04:15:59` (nginx error log). */
export function nginxTime(): (ms: number) => string {
  const cache = new SecondCache(
    (d) =>
      `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())} ` +
      `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`,
  );
  return (ms) => cache.at(ms);
}

/** `Nov  2 04:15:59` (RFC 3164: day padded with a space, no year). */
export function bsdTime(): (ms: number) => string {
  const cache = new SecondCache((d) => {
    const day = d.getUTCDate();
    return (
      `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ' ' + day : day} ` +
      `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
    );
  });
  return (ms) => cache.at(ms);
}

/** `2026-03-01T08:15:02.120Z` (RFC 3339, UTC, milliseconds). */
export function isoTime(): (ms: number) => string {
  const cache = new SecondCache((d) => d.toISOString().slice(0, 20));
  return (ms) => cache.at(ms) + three(((ms % 1000) + 1000) % 1000) + 'Z';
}
