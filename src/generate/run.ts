// Runs a generator to a sink at a rate. Pacing follows the events' own clock: each tick
// writes, in one chunk, every line whose event time the wall clock has reached, then sleeps
// until the next line is due. There is no timer per line, and lag is caught up, so the
// achieved rate over any window matches the asked one.

import type { Generator } from './generator.js';
import type { LineSink } from './output.js';

export interface RunOptions {
  /** Asked lines per second; 0 runs as fast as the sink takes them (simulated clock). */
  ratePerSec: number;
  /** Stop after this many lines. */
  count?: number;
  /** Stop when the event clock has advanced this far from the start time. */
  durationMs?: number;
  /** Where labels go (NDJSON, one per line), if asked. */
  labels?: LineSink;
  /** Aborting stops the run after the chunk being written (SIGINT, SIGTERM). */
  signal?: AbortSignal;
  /**
   * Shortest sleep between ticks when throttled (default 5 ms): at high rates each tick then
   * writes a few milliseconds' worth of lines at once instead of waking per line.
   */
  minTickMs?: number;
}

export interface RunSummary {
  lines: number;
  bytes: number;
  elapsedMs: number;
  achievedPerSec: number;
  askedPerSec: number;
  stoppedBy: 'count' | 'duration' | 'signal';
}

const UNTHROTTLED_CHUNK_LINES = 4096;
const MAX_CHUNK_LINES = 65_536;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function runGenerator(
  gen: Generator,
  sink: LineSink,
  opts: RunOptions,
): Promise<RunSummary> {
  const started = performance.now();
  const endMs = opts.durationMs === undefined ? Infinity : gen.startTimeMs + opts.durationMs;
  const withLabels = opts.labels !== undefined;
  let lines = 0;
  let bytes = 0;
  let stoppedBy: RunSummary['stoppedBy'] = 'signal';
  const minTick = opts.minTickMs ?? 5;
  let ticks = 0;
  for (;;) {
    if (opts.signal?.aborted) break;
    const left = (opts.count ?? Infinity) - lines;
    if (left <= 0) {
      stoppedBy = 'count';
      break;
    }
    if (gen.nextTimeMs >= endMs) {
      stoppedBy = 'duration';
      break;
    }
    let until = endMs - 1;
    let max = Math.min(left, UNTHROTTLED_CHUNK_LINES);
    if (opts.ratePerSec > 0) {
      const wallMs = performance.now() - started;
      until = Math.min(until, gen.startTimeMs + wallMs);
      max = Math.min(left, MAX_CHUNK_LINES);
    }
    const chunk = gen.borrowChunk(max, until, withLabels);
    if (chunk.lines > 0) {
      const buf = chunk.data;
      await sink.write(buf);
      if (opts.labels && chunk.labels) await opts.labels.write(Buffer.from(chunk.labels, 'utf8'));
      lines += chunk.lines;
      bytes += buf.length;
    }
    if (opts.ratePerSec > 0) {
      const dueIn = gen.nextTimeMs - gen.startTimeMs - (performance.now() - started);
      if (dueIn > 0) await sleep(Math.max(dueIn, minTick), opts.signal);
      else if (chunk.lines === MAX_CHUNK_LINES) await sleep(0, opts.signal);
    } else if (++ticks % 16 === 0) {
      // Let signals and stream events in now and then; a tight loop would starve them.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  const elapsedMs = performance.now() - started;
  return {
    lines,
    bytes,
    elapsedMs,
    achievedPerSec: elapsedMs > 0 ? (lines * 1000) / elapsedMs : 0,
    askedPerSec: opts.ratePerSec,
    stoppedBy,
  };
}

/** The one-line summary printed on stderr at the end of a run. */
export function formatSummary(s: RunSummary): string {
  const asked = s.askedPerSec > 0 ? `asked ${s.askedPerSec}/s` : 'unthrottled';
  return (
    `sluice generate: ${s.lines} lines, ${s.bytes} bytes in ${(s.elapsedMs / 1000).toFixed(2)} s ` +
    `(${s.achievedPerSec.toFixed(1)} lines/s, ${asked}; stopped by ${s.stoppedBy})`
  );
}
