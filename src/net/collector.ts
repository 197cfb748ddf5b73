// The collector behind `sluice serve`: it owns the listeners, the connection table and its
// limits, the shared store queue, the rate limiter and the level filter. The per-connection
// work lives in src/sources/tcp.ts and does not depend on the listener, so a TLS server (or a
// test) can hand any accepted socket to handleConnection().

import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { IoError } from '../errors.js';
import type { BuiltinFraming } from '../framing/detect.js';
import type { Level } from '../record/record.js';
import { componentLogger } from '../telemetry/logger.js';
import { createLevelFilter } from '../transforms/level-filter.js';
import {
  RateLimiter,
  normalizeAddress,
  type RateOverride,
  type RateRule,
} from '../transforms/rate-limit.js';
import {
  TcpConnection,
  type ConnectionSettings,
  type FrameDecoder,
  type StreamFramer,
} from '../sources/tcp.js';
import { collectorMetrics } from './collector-metrics.js';
import { RecordBatcher, StoreQueue, type RecordSink } from './store-queue.js';
import { TopTalkers, type Talker } from './top-talkers.js';

/** Everything a SIGHUP reload may change. */
export interface CollectorSettings {
  minLevel: Level;
  /** Default per-IP rule; undefined = no rate limit. */
  rate?: RateRule;
  rateAction: 'slow' | 'drop';
  rateOverrides: RateOverride[];
  maxLineBytes: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** 0 disables the idle timeout. */
  idleTimeoutMs: number;
}

export interface CollectorOptions {
  sink: RecordSink;
  settings: CollectorSettings;
  framerFor: (framing: BuiltinFraming, maxLineBytes: number) => StreamFramer;
  decoderFor: (framing: BuiltinFraming, peer: string) => FrameDecoder;
  logger?: Logger;
  /** Interval of the "Summary." log line; 0 = none. */
  summaryIntervalMs?: number;
  /** Records of one client waiting for the store before its socket is paused. */
  maxPendingRecords?: number;
  /** Records gathered from all clients into one store append at most (default 2048). */
  maxBatchRecords?: number;
  /** Window of the top-talker gauges (default 10 s). */
  topTalkerWindowMs?: number;
}

export interface CollectorTotals {
  connectionsOpen: number;
  connectionsAccepted: number;
  connectionsRejected: number;
  records: number;
  bytes: number;
  stored: number;
  dropped: Record<string, number>;
}

export interface Collector {
  /** Takes over an accepted socket (plain TCP or an already-handshaken TLS socket). */
  handleConnection(socket: Socket, transport?: string): void;
  /** Listens on HOST:PORT (port 0 = any) and resolves with the bound address. */
  listenTcp(host: string, port: number): Promise<{ host: string; port: number }>;
  /**
   * Applies new settings to new and open connections. Rate-limit buckets are kept: each
   * client keeps its tokens (capped at its new burst) under the rule that now applies to it.
   */
  reload(settings: CollectorSettings): void;
  totals(): CollectorTotals;
  /** The busiest client addresses of the last completed top-talker window, busiest first. */
  topTalkers(): Talker[];
  /** True while the store keeps up and the collector is not shutting down. */
  healthy(): boolean;
  /**
   * Graceful stop: closes the listeners, reads what clients still send until each goes quiet
   * for quietMs (or timeoutMs passes), makes every accepted record durable, closes the sink.
   */
  close(options?: { timeoutMs?: number; quietMs?: number }): Promise<void>;
}

const DEFAULT_PENDING_RECORDS = 100_000;
const TOP_TALKERS = 10;

export function createCollector(options: CollectorOptions): Collector {
  const log = options.logger ?? componentLogger('serve');
  const metrics = collectorMetrics();
  let settings = options.settings;
  const maxPending = options.maxPendingRecords ?? DEFAULT_PENDING_RECORDS;
  let connSettings = compile(settings, maxPending);
  const talkers = new TopTalkers();
  let lastTop: Talker[] = [];
  const queue = new StoreQueue(options.sink, {
    onAppend: (seconds) => metrics.storeAppendSeconds.observe(seconds),
  });
  const batcher = new RecordBatcher(queue, { maxBatchRecords: options.maxBatchRecords });
  const connections = new Set<TcpConnection>();
  const perIp = new Map<string, number>();
  const servers: Server[] = [];
  const totals: CollectorTotals = {
    connectionsOpen: 0,
    connectionsAccepted: 0,
    connectionsRejected: 0,
    records: 0,
    bytes: 0,
    stored: 0,
    dropped: {},
  };
  let closing = false;
  let listenersClosed = false;
  let lastStoreError: string | undefined;

  const deps = {
    settings: () => connSettings,
    queue,
    batcher,
    metrics,
    logger: log,
    framerFor: options.framerFor,
    decoderFor: options.decoderFor,
    onStored: (n: number) => {
      totals.stored += n;
      metrics.storedRecords.inc(n);
    },
    onReceived: (address: string, n: number) => talkers.received(address, n),
    onDropped: (reason: string, n: number, address: string) => {
      talkers.dropped(address, n);
      totals.dropped[reason] = (totals.dropped[reason] ?? 0) + n;
      metrics.droppedRecords.inc({ reason }, n);
    },
  };

  function refuse(socket: Socket, peer: string, reason: string, detail: string): void {
    totals.connectionsRejected++;
    metrics.rejectedConnections.inc({ reason });
    log.warn({ peer, reason, detail }, 'Client connection refused.');
    socket.on('error', () => undefined);
    socket.end(JSON.stringify({ error: reason, detail }) + '\n');
    setTimeout(() => socket.destroy(), 200).unref();
  }

  function handleConnection(socket: Socket, transport = 'tcp'): void {
    const address = normalizeAddress(socket.remoteAddress ?? 'unknown');
    const peer = `${transport}://${address.includes(':') ? `[${address}]` : address}:${
      socket.remotePort ?? 0
    }`;
    if (listenersClosed) {
      return refuse(socket, peer, 'shutting_down', 'the collector is stopping');
    }
    if (connections.size >= settings.maxConnections) {
      return refuse(socket, peer, 'max_connections', `limit ${settings.maxConnections}`);
    }
    const fromIp = perIp.get(address) ?? 0;
    if (fromIp >= settings.maxConnectionsPerIp) {
      return refuse(
        socket,
        peer,
        'max_connections_per_ip',
        `limit ${settings.maxConnectionsPerIp}`,
      );
    }
    perIp.set(address, fromIp + 1);
    const conn = new TcpConnection(socket, peer, address, deps);
    connections.add(conn);
    totals.connectionsAccepted++;
    totals.connectionsOpen++;
    metrics.connectionsOpen.inc({ transport });
    log.info({ peer }, 'Connection opened.');
    socket.once('close', () => {
      connections.delete(conn);
      const left = (perIp.get(address) ?? 1) - 1;
      if (left === 0) perIp.delete(address);
      else perIp.set(address, left);
      totals.connectionsOpen--;
      totals.records += conn.records;
      totals.bytes += conn.bytes;
      metrics.connectionsOpen.dec({ transport });
      if (conn.closeReason === 'store_error') lastStoreError = conn.closeReason;
      log.info(
        {
          peer,
          framing: conn.framing,
          records: conn.records,
          bytes: conn.bytes,
          dropped: conn.dropped,
          reason: conn.closeReason,
          durationMs: Date.now() - conn.openedMs,
        },
        'Connection closed.',
      );
    });
    conn.start();
  }

  async function listenTcp(host: string, port: number) {
    // allowHalfOpen: a client's FIN ends its input only; we reply (errors, acks) and then close.
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (s) =>
      handleConnection(s, 'tcp'),
    );
    // Keep the kernel's accept queue generous: 1,000 clients may connect at once.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      throw new IoError(`--tcp ${host}:${port}: cannot listen (${err.code ?? err.message})`);
    });
    server.on('error', (err) => log.error({ err: err.message }, 'Listener error.'));
    servers.push(server);
    const bound = server.address();
    const boundPort = typeof bound === 'object' && bound ? bound.port : port;
    log.info({ transport: 'tcp', address: host, port: boundPort }, 'Listening.');
    return { host, port: boundPort };
  }

  const summaryMs = options.summaryIntervalMs ?? 60_000;
  const summaryTimer =
    summaryMs > 0
      ? setInterval(() => {
          const t = liveTotals();
          const rateLimitedClients = connSettings.rateLimiter.limitedClients();
          log.info({ ...t, rateLimitedClients, topClients: lastTop }, 'Summary.');
        }, summaryMs).unref()
      : undefined;
  const gaugeTimer = setInterval(() => {
    metrics.rateLimitedClients.set(connSettings.rateLimiter.limitedClients());
  }, 1000).unref();
  // Only the current top addresses have a series: the gauges are cleared every window.
  const topWindowMs = options.topTalkerWindowMs ?? 10_000;
  const topTimer = setInterval(() => {
    lastTop = talkers.take(TOP_TALKERS);
    metrics.topClientRecords.reset();
    metrics.topClientDropped.reset();
    for (const t of lastTop) {
      metrics.topClientRecords.set({ client: t.address }, t.records / (topWindowMs / 1000));
      metrics.topClientDropped.set({ client: t.address }, t.dropped / (topWindowMs / 1000));
    }
  }, topWindowMs).unref();

  function liveTotals(): CollectorTotals {
    let records = totals.records;
    let bytes = totals.bytes;
    for (const c of connections) {
      records += c.records;
      bytes += c.bytes;
    }
    return { ...totals, records, bytes, dropped: { ...totals.dropped } };
  }

  async function close(opts: { timeoutMs?: number; quietMs?: number } = {}) {
    if (closing) return;
    closing = true;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const quietMs = opts.quietMs ?? 1000;
    // Connections the kernel already accepted (a client that connected, wrote and closed just
    // before the signal) wait in the listen backlog: let the event loop poll once more so they
    // are taken and drained like the others, instead of being reset with the listener.
    await new Promise((r) => setTimeout(r, 20));
    const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    listenersClosed = true;
    await closed;
    log.info({ connections: connections.size, timeoutMs }, 'Draining client connections.');
    const open = [...connections];
    for (const c of open) c.drain(quietMs);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(() => {
        for (const c of connections) c.destroy('drain_timeout');
        r();
      }, timeoutMs);
    });
    await Promise.race([Promise.all(open.map((c) => c.finished)), deadline]);
    await Promise.all(open.map((c) => c.finished));
    clearTimeout(timer);
    batcher.flush();
    await queue.flush();
    if (summaryTimer) clearInterval(summaryTimer);
    clearInterval(gaugeTimer);
    clearInterval(topTimer);
    await options.sink.close();
    log.info(liveTotals(), 'Collector stopped.');
  }

  return {
    handleConnection,
    listenTcp,
    reload(next) {
      settings = next;
      connSettings = compile(next, maxPending, connSettings.rateLimiter);
      log.info({ minLevel: next.minLevel, rateOverrides: next.rateOverrides.length }, 'Reloaded.');
    },
    totals: liveTotals,
    topTalkers: () => lastTop,
    healthy: () => !closing && lastStoreError === undefined,
    close,
  };
}

/** Connection settings; a reload passes the running limiter, which keeps its buckets. */
function compile(
  s: CollectorSettings,
  maxPendingRecords: number,
  limiter?: RateLimiter,
): ConnectionSettings {
  const rateOptions = { defaultRule: s.rate, overrides: s.rateOverrides };
  if (limiter) limiter.reconfigure(rateOptions);
  return {
    maxLineBytes: s.maxLineBytes,
    idleTimeoutMs: s.idleTimeoutMs,
    rateAction: s.rateAction,
    levelFilter: createLevelFilter(s.minLevel),
    rateLimiter: limiter ?? new RateLimiter(rateOptions),
    maxPendingRecords,
  };
}
