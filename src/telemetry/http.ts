// The telemetry HTTP endpoint shared by long-running commands (serve, ship): Prometheus text
// at /metrics from the process registry, and /healthz, a JSON body whose HTTP status tells a
// probe whether the process is healthy (200) or not (503).

import { fastify, type FastifyInstance } from 'fastify';
import { ConfigError, IoError } from '../errors.js';
import { enableProcessMetrics, registry } from './metrics.js';

export interface Health {
  ok: boolean;
  [detail: string]: unknown;
}

export interface TelemetryServerOptions {
  host: string;
  port: number;
  /** Called on every /healthz request. */
  health?: () => Health | Promise<Health>;
}

export interface TelemetryServer {
  /** The bound address, with the real port when 0 was asked for. */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Splits "HOST:PORT" or "[v6]:PORT" as given to --metrics and --tcp. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : -1;
  if (!m || port > 65535) {
    throw new ConfigError(`${what}: "${text}" is not HOST:PORT, e.g. 127.0.0.1:9100.`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function startTelemetryServer(
  options: TelemetryServerOptions,
): Promise<TelemetryServer> {
  enableProcessMetrics();
  const app: FastifyInstance = fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  app.get('/healthz', async (_req, reply) => {
    const health = options.health ? await options.health() : { ok: true };
    reply.code(health.ok ? 200 : 503);
    return health;
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new IoError(`metrics endpoint ${options.host}:${options.port}: ${msg}`, { cause: err });
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : options.port;
  return { address: { host: options.host, port }, close: () => app.close() };
}
