// Turns the validated stages of a pipeline file into running stages, using the same library
// code as the matching commands (generate, capture, serve, store, ship...), so a stage
// behaves exactly like its command.

import type { Socket } from 'node:net';
import { ConfigError } from '../errors.js';
import { makeBatch, type Batch } from '../record/batch.js';
import type { LogRecord } from '../record/record.js';
import { createLineParser, markTruncated, type ParseOptions } from '../parse/index.js';
import { NewlineFramer } from '../framing/newline.js';
import { openInput } from '../sources/input.js';
import { createFileSource } from '../sources/file/index.js';
import {
  createGenerator,
  runGenerator,
  builtinScenario,
  BUILTIN_SPECS,
} from '../generate/index.js';
import { loadScenarioFile, isGeneratedFormat } from '../generate/index.js';
import { openStoreWriter } from '../store/index.js';
import { BatchFileSink } from '../sinks/batch-files.js';
import { createShipper } from '../sinks/ship.js';
import { createTagger, loadTagRules, parseTagFlag } from '../transforms/tag.js';
import { createRedactor } from '../transforms/redact/redactor.js';
import { loadRules } from '../transforms/redact/rules.js';
import { readRedactKey } from '../transforms/redact/pseudonym.js';
import { compileWhere } from '../query/expr/index.js';
import { createCollector } from '../net/collector.js';
import { decoderFor, framerFor } from '../net/decode.js';
// Registers sluice's framed protocol ("SLUC") with the collector, as `sluice serve` does.
import '../net/frame-session.js';
import { SERVE_DEFAULTS } from '../config/serve.js';
import { parseRate } from '../transforms/rate-limit.js';
import { listenTls, createTlsConnector, parseHostPort } from '../net/tls.js';
import { parseDurationMs, parseSizeBytes } from '../util/units.js';
import { componentLogger } from '../telemetry/logger.js';
import type { StageConfig } from './config.js';
import type { SinkRuntime, SourceRuntime, StageRuntime, TransformRuntime } from './graph.js';
import {
  filterTransform,
  rateLimitTransform,
  sampleTransform,
  stdoutSink,
  type FilterOptions,
} from './stages/simple.js';

type Options = Record<string, unknown>;

const BATCH_RECORDS = 1000;
/** How long a ship sink waits for acknowledgements when the pipeline stops. */
const SHIP_DRAIN_MS = 10_000;

/** Durations in a config are strings with units, or bare numbers of seconds. */
function ms(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value * 1000 : parseDurationMs(String(value), what);
}

function bytes(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : parseSizeBytes(String(value), what);
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function parseOptionsOf(o: Options, source?: string): ParseOptions {
  return {
    format: o.format as ParseOptions['format'],
    timezone: o.timezone as string | undefined,
    assumeYear: o['assume-year'] as number | undefined,
    keepRaw: o['keep-raw'] as boolean | undefined,
    maxLineBytes: bytes(o['max-line-bytes'], 'max-line-bytes'),
    source,
  };
}

export async function buildStage(stage: StageConfig): Promise<StageRuntime> {
  const o = stage.options;
  const where = `stage "${stage.name}"`;
  switch (`${stage.kind}:${stage.type}`) {
    case 'source:generate':
      return { kind: 'source', name: stage.name, runtime: generateSource(o, where) };
    case 'source:file':
      return { kind: 'source', name: stage.name, runtime: fileSource(o) };
    case 'source:stdin':
      return { kind: 'source', name: stage.name, runtime: stdinSource(o) };
    case 'source:tcp':
    case 'source:tls':
      return { kind: 'source', name: stage.name, runtime: listenSource(stage.type, o, where) };
    case 'transform:parse':
      return { kind: 'transform', name: stage.name, runtime: parseTransform(o) };
    case 'transform:filter':
      return { kind: 'transform', name: stage.name, runtime: filterStage(stage.name, o) };
    case 'transform:tag':
      return { kind: 'transform', name: stage.name, runtime: tagTransform(o, where) };
    case 'transform:redact':
      return { kind: 'transform', name: stage.name, runtime: redactTransform(o) };
    case 'transform:sample':
      return {
        kind: 'transform',
        name: stage.name,
        runtime: sampleTransform(o.rate as number, o.seed as number | undefined),
      };
    case 'transform:rate_limit': {
      const perSecond = parseRate(String(o['rate-limit']), `${where}: rate-limit`);
      const burst = (o['rate-burst'] as number | undefined) ?? perSecond;
      return { kind: 'transform', name: stage.name, runtime: rateLimitTransform(perSecond, burst) };
    }
    case 'sink:store':
      return { kind: 'sink', name: stage.name, runtime: await storeSink(o) };
    case 'sink:stdout':
      return { kind: 'sink', name: stage.name, runtime: stdoutSink() };
    case 'sink:file':
      return { kind: 'sink', name: stage.name, runtime: fileSink(o) };
    case 'sink:ship':
      return { kind: 'sink', name: stage.name, runtime: shipSink(o, stage.name) };
  }
  throw new ConfigError(`${where}: ${stage.kind} type "${stage.type}" has no implementation.`);
}

/** Lines of the generator, parsed back into records, at the asked rate. */
function generateSource(o: Options, where: string): SourceRuntime {
  const format = (o.format as string | undefined) ?? 'apache_combined';
  if (!isGeneratedFormat(format)) {
    throw new ConfigError(`${where}: format "${format}" is not one the generator writes.`);
  }
  const name = (o.scenario as string | undefined) ?? 'web';
  const scenario = name in BUILTIN_SPECS ? builtinScenario(name) : loadScenarioFile(name);
  const rate = (o.rate as number | undefined) ?? 10;
  const gen = createGenerator({
    format,
    scenario,
    seed: o.seed as string | number | undefined,
    startTimeMs: o['start-time'] ? Date.parse(String(o['start-time'])) : undefined,
    ratePerSec: rate > 0 ? rate : 1000,
    burst: o['burst-every']
      ? {
          everyMs: ms(o['burst-every'], 'burst-every')!,
          forMs: ms(o['burst-for'], 'burst-for') ?? 1000,
          factor: (o['burst-factor'] as number | undefined) ?? 10,
        }
      : undefined,
  });
  return {
    async run(emit, signal) {
      const parser = createLineParser({ source: `generate:${name}` });
      const framer = new NewlineFramer();
      await runGenerator(
        gen,
        {
          async write(data: Buffer) {
            const out: LogRecord[] = [];
            framer.push(data, (line) => parser.push(line, out));
            if (out.length > 0) await emit(makeBatch(out, data.length));
          },
          async close() {},
        },
        {
          ratePerSec: rate,
          count: o.count as number | undefined,
          durationMs: ms(o.duration, 'duration'),
          signal,
        },
      );
    },
  };
}

function fileSource(o: Options): SourceRuntime {
  const multilineStart = o['multiline-start'] as string | undefined;
  const source = createFileSource({
    paths: list(o.path),
    excludePaths: list(o['exclude-path']),
    startAt: o['start-at'] as 'beginning' | 'end' | undefined,
    stateDir: o.state as string | undefined,
    partialFlushMs: ms(o['partial-flush'], 'partial-flush'),
    maxLineBytes: bytes(o['max-line-bytes'], 'max-line-bytes'),
    multiline:
      multilineStart || o.multiline
        ? {
            startPattern: multilineStart ? new RegExp(multilineStart) : undefined,
            preset: o.multiline as 'java' | 'python' | 'go' | undefined,
          }
        : undefined,
    parse: parseOptionsOf(o),
    batchSize: o['batch-size'] as number | undefined,
    batchWaitMs: ms(o['batch-wait'], 'batch-wait'),
  });
  return {
    async run(emit, signal) {
      await source.start();
      signal.addEventListener('abort', () => void source.stop(), { once: true });
      for await (const batch of source) await emit(batch);
    },
    close: () => source.stop(),
  };
}

function stdinSource(o: Options): SourceRuntime {
  return {
    async run(emit, signal) {
      const parser = createLineParser(parseOptionsOf(o, 'stdin'));
      const framer = new NewlineFramer({
        maxLineBytes: bytes(o['max-line-bytes'], 'max-line-bytes'),
      });
      let out: LogRecord[] = [];
      let size = 0;
      const pushLine = (line: string, truncated: boolean) => {
        const before = out.length;
        parser.push(line, out);
        if (truncated) for (let i = before; i < out.length; i++) markTruncated(out[i]);
      };
      for await (const chunk of openInput('-')) {
        if (signal.aborted) break;
        framer.push(chunk, (line, truncated) => pushLine(line, truncated));
        size += chunk.length;
        if (out.length >= BATCH_RECORDS) {
          await emit(makeBatch(out, size));
          out = [];
          size = 0;
        }
      }
      framer.end((line, truncated) => pushLine(line, truncated));
      parser.flush(out);
      if (out.length > 0) await emit(makeBatch(out, size));
    },
  };
}

/** A tcp or tls listener: the collector's connection handling, feeding the pipeline. */
function listenSource(type: string, o: Options, where: string): SourceRuntime {
  const at = parseHostPort(String(o.listen), `${where}: listen`);
  const settings = {
    ...SERVE_DEFAULTS,
    minLevel: (o['min-level'] as typeof SERVE_DEFAULTS.minLevel) ?? SERVE_DEFAULTS.minLevel,
    maxLineBytes: bytes(o['max-line-bytes'], 'max-line-bytes') ?? SERVE_DEFAULTS.maxLineBytes,
    maxConnections: (o['max-connections'] as number) ?? SERVE_DEFAULTS.maxConnections,
    maxConnectionsPerIp:
      (o['max-connections-per-ip'] as number) ?? SERVE_DEFAULTS.maxConnectionsPerIp,
    idleTimeoutMs: ms(o['idle-timeout'], 'idle-timeout') ?? SERVE_DEFAULTS.idleTimeoutMs,
    rate: o['rate-limit']
      ? {
          ratePerSec: parseRate(String(o['rate-limit'])),
          burst: (o['rate-burst'] as number) ?? parseRate(String(o['rate-limit'])),
        }
      : undefined,
    rateAction: (o['rate-action'] as 'slow' | 'drop') ?? 'slow',
  };
  return {
    async run(emit, signal) {
      const collector = createCollector({
        sink: {
          async append(records: LogRecord[]) {
            const batch = makeBatch(records, 0);
            await emit(batch);
            const outcome = await batch.ack.wait();
            if (outcome.status === 'rejected') {
              throw new ConfigError(`${where}: records rejected downstream: ${outcome.reason}`);
            }
            return { stored: records.length, duplicate: false };
          },
          async close() {},
        },
        settings,
        framerFor,
        decoderFor: (framing, peer) => decoderFor(framing, peer, parseOptionsOf(o)),
      });
      let closeTls: (() => Promise<void>) | undefined;
      if (type === 'tls') {
        const listener = await listenTls(
          {
            host: at.host,
            port: at.port,
            certFile: String(o.cert),
            keyFile: String(o.key),
            caFile: o.ca as string | undefined,
            requireClientCert: o['require-client-cert'] as boolean | undefined,
          },
          (socket) => collector.handleConnection(socket as unknown as Socket, 'tls'),
        );
        const bound = listener.address();
        componentLogger('run').info(
          { transport: 'tls', address: at.host, port: bound.port },
          'Listening.',
        );
        closeTls = () => listener.close();
      } else {
        await collector.listenTcp(at.host, at.port);
      }
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await closeTls?.();
      await collector.close();
    },
  };
}

function parseTransform(o: Options): TransformRuntime {
  const parser = createLineParser(parseOptionsOf(o));
  return {
    process(records) {
      const out: LogRecord[] = [];
      for (const r of records) {
        if (r.format !== 'text') {
          out.push(r);
          continue;
        }
        const before = out.length;
        parser.push(r.raw ?? r.message, out);
        for (let i = before; i < out.length; i++) {
          if (r.source) out[i].source = r.source;
          if (r.tags) out[i].tags = [...(out[i].tags ?? []), ...r.tags];
        }
      }
      parser.flush(out);
      return { records: out, dropped: { joined: Math.max(0, records.length - out.length) } };
    },
  };
}

function filterStage(name: string, o: Options): TransformRuntime {
  const options: FilterOptions = { ...(o as FilterOptions), where: undefined };
  if (typeof o.where === 'string') options.where = compileWhere(o.where).predicate;
  return filterTransform(`stage "${name}"`, options);
}

function tagTransform(o: Options, where: string): TransformRuntime {
  const rules = [
    ...list(o.tag).map((t) => parseTagFlag(t)),
    ...(o.rules ? loadTagRules(String(o.rules)) : []),
  ];
  const tagger = createTagger(rules);
  if (!tagger) throw new ConfigError(`${where}: a tag stage needs tag or rules.`);
  return {
    process(records) {
      for (const r of records) tagger(r, r.raw ?? r.message);
      return { records };
    },
  };
}

function redactTransform(o: Options): TransformRuntime {
  const mode = o['redact-mode'] as 'mask' | 'hash' | undefined;
  const keyFile = o['redact-key'] as string | undefined;
  if (mode === 'hash' && !keyFile) {
    throw new ConfigError('redact: redact-mode hash needs redact-key, a file with the HMAC key.');
  }
  const redactor = createRedactor({
    preset: o.redact === 'hipaa' || !o['redact-rules'] ? 'hipaa' : undefined,
    rules: o['redact-rules'] ? loadRules(String(o['redact-rules'])) : undefined,
    mode,
    key: keyFile ? readRedactKey(keyFile) : undefined,
  });
  return { process: (records) => ({ records: redactor.redactBatch(records) }) };
}

async function storeSink(o: Options): Promise<SinkRuntime> {
  const writer = await openStoreWriter(String(o.dir), {
    segmentSizeBytes: bytes(o['segment-size'], 'segment-size'),
    segmentAgeMs: ms(o['segment-age'], 'segment-age'),
    compression: o.compression as 'none' | 'gzip' | undefined,
    fsync: o.fsync as 'always' | 'interval' | 'never' | undefined,
    retainAgeMs: ms(o['retain-age'], 'retain-age'),
    retainSizeBytes: bytes(o['retain-size'], 'retain-size'),
    retainSegments: o['retain-segments'] as number | undefined,
  });
  return ackingSink(
    async (batch) => {
      await writer.append(batch.records);
    },
    () => writer.close(),
  );
}

function fileSink(o: Options): SinkRuntime {
  const sink = new BatchFileSink(String(o.out));
  return ackingSink(
    async (batch) => {
      await sink.write(batch.records);
    },
    async () => {},
  );
}

function shipSink(o: Options, name: string): SinkRuntime {
  const url = new URL(String(o.to));
  const tls = url.protocol === 'tls:';
  const shipper = createShipper({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port),
    connector: tls
      ? createTlsConnector({
          caFile: o.ca as string | undefined,
          certFile: o.cert as string | undefined,
          keyFile: o.key as string | undefined,
          insecure: o.insecure as boolean | undefined,
        })
      : undefined,
    protocol: o.protocol as 'sluice' | 'ndjson' | undefined,
    source: name,
    compress: o.compress as 'none' | 'gzip' | 'deflate' | 'auto' | undefined,
    level: o.level as number | undefined,
    batchRecords: o['batch-size'] as number | undefined,
    batchBytes: bytes(o['batch-bytes'], 'batch-bytes'),
    batchWaitMs: ms(o['batch-wait'], 'batch-wait'),
    spoolDir: o.spool as string | undefined,
    spoolMaxBytes: bytes(o['spool-max'], 'spool-max'),
    whenFull: o['when-full'] as 'block' | 'drop-oldest' | undefined,
  });
  return {
    write: (batch) => shipper.write(batch),
    async close() {
      // Wait a bounded time for acknowledgements; what is left stays in the spool (when one
      // is set) or is reported as not delivered by the conservation report.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHIP_DRAIN_MS);
      });
      await Promise.race([shipper.flush(), timeout]);
      clearTimeout(timer);
      await shipper.close();
    },
  };
}

/**
 * A sink that writes batches one at a time and acknowledges each when its write resolves;
 * a failed write rejects the batch (the source keeps its checkpoint) and is reported.
 */
function ackingSink(
  write: (batch: Batch) => Promise<void>,
  close: () => Promise<void>,
): SinkRuntime {
  let chain = Promise.resolve();
  return {
    write(batch) {
      chain = chain.then(async () => {
        try {
          await write(batch);
          batch.ack.delivered();
        } catch (err) {
          batch.ack.settle({ status: 'rejected', reason: (err as Error).message });
        }
      });
      return chain;
    },
    async close() {
      await chain;
      await close();
    },
  };
}
