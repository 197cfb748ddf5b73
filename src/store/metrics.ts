// The store's telemetry: counters in the shared registry (sluice_store_*), counted per batch.

import { counter, gauge, histogram } from '../telemetry/metrics.js';

export function storeMetrics() {
  return {
    records: counter('sluice_store_records_total', 'Records appended to the store.'),
    bytes: counter('sluice_store_bytes_total', 'Encoded record bytes appended to the store.'),
    batches: counter('sluice_store_batches_total', 'Batches appended to the store.'),
    duplicates: counter(
      'sluice_store_duplicates_total',
      'Batches not stored again because their batch id was already stored.',
    ),
    appendSeconds: histogram(
      'sluice_store_append_seconds',
      'Time from append to durable, per batch.',
      [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5],
    ),
    fsyncSeconds: histogram(
      'sluice_store_fsync_seconds',
      'Duration of each fsync of the active segment.',
      [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    ),
    rotations: counter('sluice_store_rotations_total', 'Segments closed.', ['reason']),
    compressedSegments: counter(
      'sluice_store_compressed_segments_total',
      'Closed segments compressed.',
    ),
    compressionErrors: counter(
      'sluice_store_compression_errors_total',
      'Segments whose compression failed (left uncompressed).',
    ),
    purgedSegments: counter(
      'sluice_store_purged_segments_total',
      'Segments removed by retention.',
      ['reason'],
    ),
    quarantinedBytes: counter(
      'sluice_store_quarantined_bytes_total',
      'Bytes of torn or corrupt segment tails moved into quarantine files on recovery.',
    ),
    corruptBlocks: counter(
      'sluice_store_corrupt_blocks_total',
      'Blocks a reader skipped because their checksum or framing was wrong.',
    ),
    segments: gauge('sluice_store_segments', 'Segments in the store folder.'),
  };
}
