// The collector's counters, registered once in the process registry (src/telemetry/metrics.ts)
// so /metrics, the summary log line and the tests read the same numbers.

import { counter, gauge, histogram } from '../telemetry/metrics.js';

export function collectorMetrics() {
  return {
    connectionsOpen: gauge('sluice_serve_connections', 'Client connections open now.', [
      'transport',
    ]),
    connectionsTotal: counter(
      'sluice_serve_connections_total',
      'Client connections accepted, by framing detected.',
      ['framing'],
    ),
    rejectedConnections: counter(
      'sluice_serve_rejected_connections_total',
      'Client connections refused or cut off, by reason.',
      ['reason'],
    ),
    receivedRecords: counter(
      'sluice_serve_received_records_total',
      'Records decoded from clients, before filtering.',
    ),
    receivedBytes: counter('sluice_serve_received_bytes_total', 'Bytes read from clients.'),
    storedRecords: counter(
      'sluice_serve_stored_records_total',
      'Records made durable in the store.',
    ),
    droppedRecords: counter(
      'sluice_serve_dropped_records_total',
      'Records not stored, by reason (below_min_level, rate_limited, ...).',
      ['reason'],
    ),
    rateLimitedClients: gauge(
      'sluice_serve_rate_limited_clients',
      'Client addresses rate-limited within the last second.',
    ),
    rateLimitWaitsTotal: counter(
      'sluice_serve_rate_limit_pauses_total',
      'Times a client socket was paused to hold it to its rate (--rate-action slow).',
    ),
    topClientRecords: gauge(
      'sluice_serve_top_client_records_per_second',
      'Records per second received from the busiest client addresses (top 10, last 10 s).',
      ['client'],
    ),
    topClientDropped: gauge(
      'sluice_serve_top_client_dropped_per_second',
      'Records per second dropped from those same busiest client addresses (last 10 s).',
      ['client'],
    ),
    storeAppendSeconds: histogram(
      'sluice_serve_store_append_seconds',
      'Time for one grouped store append to become durable.',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
  };
}

export type CollectorMetrics = ReturnType<typeof collectorMetrics>;
