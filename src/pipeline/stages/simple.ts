// Stages of `sluice run` that need no other part of sluice: filter by level or regex, sample,
// rate limit, and the stdout sink.

import { ConfigError } from '../../errors.js';
import type { Batch } from '../../record/batch.js';
import { LEVEL_RANK, type Level, type LogRecord } from '../../record/record.js';
import { encodeRecord } from '../../record/json.js';
import type { SinkRuntime, TransformResult, TransformRuntime } from '../graph.js';

export interface FilterOptions {
  level?: Level;
  grep?: string;
  'ignore-case'?: boolean;
  invert?: boolean;
  include?: string;
  exclude?: string;
  /** A compiled `where` expression, when the stage has one. */
  where?: (record: LogRecord) => boolean;
}

function compileRegex(stage: string, option: string, source: string, flags = ''): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new ConfigError(
      `${stage}: ${option} "${source}" is not a valid regex: ${(err as Error).message}`,
    );
  }
}

/** Keeps records at or above a level, matching a grep, include/exclude and a where expression. */
export function filterTransform(stage: string, options: FilterOptions): TransformRuntime {
  const minRank = options.level ? LEVEL_RANK[options.level] : -1;
  const grep = options.grep
    ? compileRegex(stage, 'grep', options.grep, options['ignore-case'] ? 'i' : '')
    : undefined;
  const include = options.include ? compileRegex(stage, 'include', options.include) : undefined;
  const exclude = options.exclude ? compileRegex(stage, 'exclude', options.exclude) : undefined;
  const invert = options.invert === true;
  const where = options.where;
  return {
    process(records): TransformResult {
      const kept: LogRecord[] = [];
      const dropped = { below_level: 0, filtered: 0 };
      for (const r of records) {
        if (LEVEL_RANK[r.level] < minRank) {
          dropped.below_level++;
          continue;
        }
        const text = r.raw ?? r.message;
        let keep = true;
        if (grep && grep.test(r.message) === invert) keep = false;
        else if (include && !include.test(text)) keep = false;
        else if (exclude && exclude.test(text)) keep = false;
        else if (where && !where(r)) keep = false;
        if (keep) kept.push(r);
        else dropped.filtered++;
      }
      return { records: kept, dropped };
    },
  };
}

/**
 * Keeps a share of records, chosen by a seeded generator so that a run can be repeated.
 * xorshift32: a fast, small generator; sampling needs no cryptographic quality.
 */
export function sampleTransform(rate: number, seed = 0x9e3779b9): TransformRuntime {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  return {
    process(records): TransformResult {
      const kept = records.filter(() => next() < rate);
      return { records: kept, dropped: { sampled: records.length - kept.length } };
    },
  };
}

/** Passes at most `perSecond` records a second on average, with bursts up to `burst`. */
export function rateLimitTransform(perSecond: number, burst = perSecond): TransformRuntime {
  let tokens = burst;
  let last = performance.now();
  return {
    process(records): TransformResult {
      const now = performance.now();
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * perSecond);
      last = now;
      const take = Math.min(records.length, Math.floor(tokens));
      tokens -= take;
      return { records: records.slice(0, take), dropped: { rate_limited: records.length - take } };
    },
  };
}

/** Writes records as NDJSON on stdout, waiting for the pipe to drain when it is full. */
export function stdoutSink(): SinkRuntime {
  return {
    async write(batch: Batch): Promise<void> {
      let text = '';
      for (const r of batch.records) text += encodeRecord(r) + '\n';
      const ok = process.stdout.write(text);
      if (!ok) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
      batch.ack.delivered();
    },
    async close(): Promise<void> {},
  };
}
