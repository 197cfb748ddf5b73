// Options of a store writer, their defaults in one place, and their checks (made when the
// writer is built, naming the option and what it expected).

import { optionError } from '../errors.js';

export type Compression = 'none' | 'gzip';
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface StoreOptions {
  /** Rotate the active segment when it reaches this many bytes (default 64 MiB). */
  segmentSizeBytes?: number;
  /** Rotate the active segment when it is this old (default 1 h). */
  segmentAgeMs?: number;
  /** Codec for closed segments (default gzip), applied in a worker thread. */
  compression?: Compression;
  /** gzip level 1-9 for closed segments (default 1). */
  compressionLevel?: number;
  /** When an append counts as durable (default interval). */
  fsync?: FsyncPolicy;
  /** fsync period under fsync 'interval' (default 1000 ms). */
  fsyncIntervalMs?: number;
  /** Under fsync 'interval', also fsync as soon as this many bytes await it (default 4 MiB). */
  fsyncIntervalBytes?: number;
  /** Remove closed segments closed longer ago than this (default: keep). */
  retainAgeMs?: number;
  /** Remove the oldest closed segments while the store is larger than this (default: keep). */
  retainSizeBytes?: number;
  /** Keep at most this many closed segments (default: keep). */
  retainSegments?: number;
  /** How often retention runs while the writer is open (default 60 s). */
  retentionIntervalMs?: number;
  /** How many batch ids are remembered for de-duplication (default 100,000). */
  dedupeWindow?: number;
}

export type ResolvedStoreOptions = Required<
  Omit<StoreOptions, 'retainAgeMs' | 'retainSizeBytes' | 'retainSegments'>
> &
  Pick<StoreOptions, 'retainAgeMs' | 'retainSizeBytes' | 'retainSegments'>;

export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SEGMENT_AGE_MS = 3_600_000;
export const DEFAULT_FSYNC_INTERVAL_MS = 1000;
export const DEFAULT_FSYNC_INTERVAL_BYTES = 4 * 1024 * 1024;
export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;
export const DEFAULT_DEDUPE_WINDOW = 100_000;
/**
 * gzip level of closed segments. Level 1 keeps about 85-90% of level 6's savings on logs at
 * about 2.5 times its speed (docs/store.md); the worker shares the machine's cores with
 * ingest, and at level 6 it used as much CPU as the collector's own thread under load.
 */
export const DEFAULT_COMPRESSION_LEVEL = 1;

export function defaultStoreOptions(): ResolvedStoreOptions {
  return {
    segmentSizeBytes: DEFAULT_SEGMENT_SIZE_BYTES,
    segmentAgeMs: DEFAULT_SEGMENT_AGE_MS,
    compression: 'gzip',
    compressionLevel: DEFAULT_COMPRESSION_LEVEL,
    fsync: 'interval',
    fsyncIntervalMs: DEFAULT_FSYNC_INTERVAL_MS,
    fsyncIntervalBytes: DEFAULT_FSYNC_INTERVAL_BYTES,
    retentionIntervalMs: DEFAULT_RETENTION_INTERVAL_MS,
    dedupeWindow: DEFAULT_DEDUPE_WINDOW,
  };
}

function positive(name: string, value: number | undefined, min = 1): void {
  if (value !== undefined && (!Number.isFinite(value) || value < min)) {
    throw optionError('store', name, value, `expected a number of at least ${min}`);
  }
}

/** Fills in defaults and rejects values that cannot work. */
export function resolveStoreOptions(opts: StoreOptions = {}): ResolvedStoreOptions {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o: ResolvedStoreOptions = { ...defaultStoreOptions(), ...defined };
  positive('segmentSizeBytes', o.segmentSizeBytes, 1024);
  positive('segmentAgeMs', o.segmentAgeMs);
  positive('fsyncIntervalMs', o.fsyncIntervalMs);
  positive('fsyncIntervalBytes', o.fsyncIntervalBytes);
  positive('retentionIntervalMs', o.retentionIntervalMs);
  positive('dedupeWindow', o.dedupeWindow, 0);
  positive('retainAgeMs', o.retainAgeMs, 0);
  positive('retainSizeBytes', o.retainSizeBytes, 0);
  positive('retainSegments', o.retainSegments, 0);
  if (!['none', 'gzip'].includes(o.compression)) {
    throw optionError('store', 'compression', o.compression, 'expected none or gzip');
  }
  if (!['always', 'interval', 'never'].includes(o.fsync)) {
    throw optionError('store', 'fsync', o.fsync, 'expected always, interval or never');
  }
  if (!Number.isInteger(o.compressionLevel) || o.compressionLevel < 1 || o.compressionLevel > 9) {
    throw optionError('store', 'compressionLevel', o.compressionLevel, 'expected 1 to 9');
  }
  return o;
}
