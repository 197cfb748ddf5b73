// `sluice serve`: the collection server. Listens on TCP, detects each connection's framing,
// filters and rate-limits, and stores records durably. SIGTERM/SIGINT drain and exit 0;
// SIGHUP reloads --config.

import type { Command } from 'commander';
import { loadServeConfig, resolveServeSettings, type ServeFlags } from '../config/serve.js';
import { ConfigError } from '../errors.js';
import { createCollector } from '../net/collector.js';
import { decoderFor, framerFor } from '../net/decode.js';
import type { RecordSink } from '../net/store-queue.js';
import '../net/frame-session.js'; // registers sluice's framed protocol ("SLUC")
import { openStoreWriter } from '../store/index.js';
import { componentLogger } from '../telemetry/logger.js';
import { parseHostPort, startTelemetryServer } from '../telemetry/http.js';
import { parseDurationMs } from '../util/units.js';
import { runAction } from './run-action.js';
import { addStoreOptions, readStoreOptions, type StoreFlags } from './store.js';
import { addServeTlsOptions, startServeTls, type ServeTlsFlags } from './tls-options.js';
import { addRedactOptions, redactingSink, redactorFromFlags } from './redact-options.js';
import type { RedactFlags } from './redact-options.js';

interface ServeOptions extends ServeFlags, ServeTlsFlags, RedactFlags, Partial<StoreFlags> {
  tcp?: string;
  store: string;
  config?: string;
  metrics?: string;
  timezone?: string;
  summaryInterval: string;
  drainTimeout: string;
}

export function register(program: Command): void {
  const command = program
    .command('serve')
    .description('Collect logs over TCP (NDJSON, text, syslog) from many clients into a store.')
    .option('--tcp <host:port>', 'address to listen on; port 0 picks a free port')
    .requiredOption('--store <dir>', 'store folder that receives the records')
    .option('--config <file>', 'YAML settings (rate overrides by CIDR); re-read on SIGHUP')
    .option('--min-level <level>', 'drop records below this level (counted)')
    .option('--rate-limit <rate>', 'records per second per client IP, e.g. 1000/s')
    .option('--rate-burst <n>', 'token bucket size per client IP (default: one second)')
    .option('--rate-action <action>', 'over the limit: slow (pause reading) or drop (counted)')
    .option('--max-line-bytes <size>', 'longest line or frame; longer cuts the client off')
    .option('--max-connections <n>', 'most client connections open at once')
    .option('--max-connections-per-ip <n>', 'most open connections from one address')
    .option('--idle-timeout <duration>', 'cut off clients silent this long; 0 = never')
    .option('--metrics <host:port>', 'serve Prometheus /metrics and /healthz here')
    .option('--timezone <zone>', 'zone for syslog/text times written without one (default UTC)')
    .option('--summary-interval <duration>', 'period of the summary log line; 0 = none', '60s')
    .option('--drain-timeout <duration>', 'longest graceful drain on SIGTERM', '10s');
  addStoreOptions(command);
  addRedactOptions(addServeTlsOptions(command)).action(runAction('serve', serve));
}

async function serve(opts: ServeOptions): Promise<number> {
  const log = componentLogger('serve');
  if (!opts.tcp && !opts.tls) {
    throw new ConfigError('give --tcp HOST:PORT, --tls HOST:PORT, or both, to listen on.');
  }
  const listen = opts.tcp ? parseHostPort(opts.tcp, '--tcp') : undefined;
  const readSettings = () =>
    resolveServeSettings(opts.config ? loadServeConfig(opts.config) : undefined, opts);
  const settings = readSettings();
  const storeOptions = readStoreOptions(opts);
  const summaryIntervalMs = parseDurationMs(opts.summaryInterval, '--summary-interval');
  const drainTimeoutMs = parseDurationMs(opts.drainTimeout, '--drain-timeout');
  const metricsAt = opts.metrics ? parseHostPort(opts.metrics, '--metrics') : undefined;
  const parse = { timezone: opts.timezone };
  const redactor = redactorFromFlags(opts);

  const sink = await openStoreWriter(opts.store, storeOptions);
  const collectorSink: RecordSink = redactingSink(sink, redactor);
  // Encoded lines (the syslog fast path) only when the sink stores them as they are: a
  // redacting sink must see every record.
  const decode = { encodedLines: typeof collectorSink.appendEncoded === 'function' };
  const collector = createCollector({
    sink: collectorSink,
    settings,
    logger: log,
    summaryIntervalMs,
    framerFor,
    decoderFor: (framing, peer) => decoderFor(framing, peer, parse, decode),
  });
  let telemetry: Awaited<ReturnType<typeof startTelemetryServer>> | undefined;
  let tlsListener: Awaited<ReturnType<typeof startServeTls>>;
  try {
    telemetry = metricsAt
      ? await startTelemetryServer({
          ...metricsAt,
          health: () => ({ ok: collector.healthy(), ...collector.totals() }),
        })
      : undefined;
    if (telemetry) log.info({ transport: 'http', ...telemetry.address }, 'Metrics listening.');
    if (listen) await collector.listenTcp(listen.host, listen.port);
    tlsListener = await startServeTls(opts, collector);
  } catch (err) {
    // A busy port (or bad TLS files): stop what started and close the store, releasing its
    // lock and removing the empty segment, so the process exits and the next start is clean.
    await telemetry?.close().catch(() => undefined);
    await collector.close({ timeoutMs: 0, quietMs: 0 }).catch(() => undefined);
    throw err;
  }

  const onHup = () => {
    try {
      collector.reload(readSettings());
    } catch (err) {
      log.error({ err: (err as Error).message }, 'Reload failed; keeping the old settings.');
    }
  };
  process.on('SIGHUP', onHup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'Stopping: no new connections, draining clients.');
  process.off('SIGHUP', onHup);
  await tlsListener?.close();
  // Keep the event loop alive while draining: with the listeners closed, only the store's
  // (unref'd) fsync timer may be left, and Node would exit before the last append is durable.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    await collector.close({ timeoutMs: drainTimeoutMs });
    await telemetry?.close();
  } finally {
    clearInterval(keepAlive);
  }
  return 0;
}
