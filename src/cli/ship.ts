// `sluice ship`: follows files (or reads standard input), parses the lines into records and
// ships them in acknowledged, compressed batches to a collector (docs/ship.md).

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError } from '../errors.js';
import { CODECS, parseLevel, type Codec } from '../codec/codec.js';
import { NewlineFramer } from '../framing/newline.js';
import { createLineParser } from '../parse/line-parser.js';
import type { ParseOptions } from '../parse/options.js';
import { makeBatch } from '../record/batch.js';
import type { LogRecord } from '../record/record.js';
import { FORMATS, type Format } from '../record/record.js';
import { createShipper, type Shipper, type ShipProtocol } from '../sinks/ship.js';
import { mergeSpooledPositions } from '../sinks/spool-positions.js';
import { createFileSource, type FileSource } from '../sources/file/index.js';
import { FileDiscovery } from '../sources/file/discovery.js';
import { openInput } from '../sources/input.js';
import { componentLogger } from '../telemetry/logger.js';
import { parseHostPort, startTelemetryServer, type TelemetryServer } from '../telemetry/http.js';
import { tcpConnector, type Connector } from '../net/frame-client.js';
import { formatBytes, parseDurationMs, parsePositiveInt, parseSizeBytes } from '../util/units.js';
import { runAction } from './run-action.js';
import { addRedactOptions, redactorFromFlags, type RedactFlags } from './redact-options.js';
import { addShipTlsOptions, tlsTarget, type ShipTlsFlags } from './tls-options.js';

interface ShipFlags extends ShipTlsFlags, RedactFlags {
  to: string;
  protocol: string;
  sourceId: string;
  batchSize: string;
  batchBytes: string;
  batchWait: string;
  compress: string;
  level: string;
  window: string;
  backoffInitial: string;
  backoffMax: string;
  ackTimeout: string;
  spool?: string;
  spoolMax?: string;
  whenFull: string;
  stateDir?: string;
  startAt: string;
  format: string;
  once?: boolean;
  health?: string;
  statusInterval: string;
  progress: boolean;
  drainTimeout: string;
}

export function register(program: Command): void {
  const command = program
    .command('ship')
    .description('Ship log files or standard input to a collector in acknowledged batches.')
    .argument('<inputs...>', 'files or globs to follow, or - for standard input')
    .requiredOption('--to <url>', 'collector address, tcp://HOST:PORT or tls://HOST:PORT')
    .option('--protocol <name>', 'sluice (framed, acknowledged) or ndjson (plain lines)', 'sluice')
    .option('--source-id <name>', 'stream name; part of every batch identity', 'default')
    .option('--batch-size <n>', 'records per batch at most', '1000')
    .option('--batch-bytes <size>', 'bytes of records per batch at most', '1MiB')
    .option('--batch-wait <duration>', 'longest wait before a partial batch is sent', '1s')
    .option('--compress <codec>', `${CODECS.join(', ')} or auto (adaptive)`, 'gzip')
    .option('--level <n>', 'compression level, 1 (fast) to 9 (small)', '6')
    .option('--window <n>', 'batches sent and not yet acknowledged, at most', '32')
    .option('--backoff-initial <duration>', 'first reconnect delay (doubles, with jitter)', '250ms')
    .option('--backoff-max <duration>', 'longest reconnect delay', '30s')
    .option('--ack-timeout <duration>', 'silence after which the connection is re-made', '30s')
    .option('--spool <dir>', 'keep unacknowledged batches on disk here (survives restarts)')
    .option('--spool-max <size>', 'spool bound (default 1GiB on disk, 256MiB in memory)')
    .option('--when-full <policy>', 'spool full: block (stop reading) or drop-oldest', 'block')
    .option('--state-dir <dir>', 'file checkpoints (default: the spool directory)')
    .option('--start-at <where>', 'new files: beginning or end', 'beginning')
    .option('--format <name>', `line format to force, or auto (${FORMATS.length} formats)`, 'auto')
    .option('--once', 'stop at the end of the files (after everything is acknowledged)')
    .option('--health <host:port>', 'serve /healthz and /metrics here')
    .option('--status-interval <duration>', 'status line on stderr this often (0: never)', '10s')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('--drain-timeout <duration>', 'on exit, wait this long for acks', '5s');
  addRedactOptions(addShipTlsOptions(command));
  command.action(runAction('ship', (inputs: string[], flags: ShipFlags) => ship(inputs, flags)));
}

interface Target {
  host: string;
  port: number;
  connector: Connector;
}

function parseTarget(url: string, flags: ShipTlsFlags): Target {
  if (url.startsWith('tls://')) return tlsTarget(url, flags);
  const m = /^tcp:\/\/(.+)$/.exec(url);
  if (!m) {
    throw new ConfigError(`--to: "${url}" is not a collector address; use tcp://HOST:PORT.`);
  }
  const { host, port } = parseHostPort(m[1], '--to');
  if (port === 0) throw new ConfigError(`--to: "${url}" needs a port above 0.`);
  return { host, port, connector: tcpConnector };
}

function choice<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${flag}: "${value}" is not one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

function buildShipper(flags: ShipFlags): Shipper {
  const target = parseTarget(flags.to, flags);
  const compress = choice(flags.compress, [...CODECS, 'auto'] as const, '--compress');
  return createShipper({
    host: target.host,
    port: target.port,
    connector: target.connector,
    protocol: choice<ShipProtocol>(flags.protocol, ['sluice', 'ndjson'], '--protocol'),
    source: flags.sourceId,
    batchRecords: parsePositiveInt(flags.batchSize, '--batch-size'),
    batchBytes: parseSizeBytes(flags.batchBytes, '--batch-bytes'),
    batchWaitMs: parseDurationMs(flags.batchWait, '--batch-wait'),
    compress: compress as Codec | 'auto',
    level: parseLevel(flags.level),
    window: parsePositiveInt(flags.window, '--window'),
    backoffInitialMs: parseDurationMs(flags.backoffInitial, '--backoff-initial'),
    backoffMaxMs: parseDurationMs(flags.backoffMax, '--backoff-max'),
    ackTimeoutMs: parseDurationMs(flags.ackTimeout, '--ack-timeout'),
    spoolDir: flags.spool,
    spoolMaxBytes: flags.spoolMax ? parseSizeBytes(flags.spoolMax, '--spool-max') : undefined,
    whenFull: choice(flags.whenFull, ['block', 'drop-oldest'] as const, '--when-full'),
  });
}

async function ship(inputs: string[], flags: ShipFlags): Promise<number> {
  const log = componentLogger('ship');
  const format = choice(flags.format, [...FORMATS, 'auto'] as const, '--format') as Format | 'auto';
  const statusMs = parseDurationMs(flags.statusInterval, '--status-interval');
  const drainMs = parseDurationMs(flags.drainTimeout, '--drain-timeout');
  const startAt = choice(flags.startAt, ['beginning', 'end'] as const, '--start-at');
  if (inputs.includes('-') && inputs.length > 1) {
    throw new ConfigError('inputs: - (standard input) cannot be mixed with files.');
  }
  const stdin = inputs[0] === '-';
  // Archives are read only when an input names them: `app.log.gz` or `*.gz`.
  const readGzip = inputs.some((p) => p.endsWith('.gz'));
  if (!stdin) await checkInputs(inputs, Boolean(flags.once), readGzip, log);
  const shipper = buildShipper(flags);
  const redactor = redactorFromFlags(flags);
  if (redactor) {
    // Redact before the batch reaches the shipper, so no identifier is spooled or sent.
    const write = shipper.write.bind(shipper);
    shipper.write = (batch) => write({ ...batch, records: redactor.redactBatch(batch.records) });
  }
  const telemetry = await startHealth(flags.health, shipper);
  log.info({ to: flags.to, shipper_id: shipper.shipperId, inputs }, 'Shipping.');

  const stateDir = flags.stateDir ?? flags.spool;
  if (flags.spool && stateDir && !stdin) {
    // Lines the spool already holds (or delivered) are not read again under new sequences.
    await mergeSpooledPositions(stateDir, shipper.spooledPositions(), log);
  }
  const run = stdin
    ? new StdinRun(shipper, { format })
    : new FileRun(shipper, inputs, {
        format,
        startAt,
        stateDir,
        once: Boolean(flags.once),
        readGzip,
        batchSize: parsePositiveInt(flags.batchSize, '--batch-size'),
        batchWaitMs: parseDurationMs(flags.batchWait, '--batch-wait'),
        spooled: flags.spool !== undefined,
        window: parsePositiveInt(flags.window, '--window'),
        progress: flags.progress && Boolean(process.stderr.isTTY) && Boolean(flags.once),
      });
  const status = statusMs > 0 ? setInterval(() => statusLine(shipper, run), statusMs) : undefined;
  status?.unref();
  // After a signal, acks are awaited for --drain-timeout at most; otherwise until all are in.
  let drainExpired: (drained: boolean) => void = () => {};
  const drainDeadline = new Promise<boolean>((r) => (drainExpired = r));
  const onSignal = (signal: string) => {
    log.info({ signal }, 'Stopping: finishing the batches in hand.');
    setTimeout(() => drainExpired(false), drainMs).unref();
    void run.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await run.done();
    const drained = await Promise.race([shipper.flush().then(() => true), drainDeadline]);
    await run.close();
    const s = shipper.status();
    if (!drained && s.spoolBatches > 0) {
      log.warn(
        { batches: s.spoolBatches, spooled: Boolean(flags.spool) },
        exitMessage(Boolean(flags.spool), stdin),
      );
    }
    statusLine(shipper, run);
    return 0;
  } finally {
    clearInterval(status);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await shipper.close();
    await telemetry?.close();
  }
}

/** What becomes of the unacknowledged batches when ship exits before their acks. */
function exitMessage(spooled: boolean, stdin: boolean): string {
  if (spooled) return 'Exiting with batches in the spool; they are sent on the next start.';
  // Standard input cannot be read again: only a disk spool keeps what it gave.
  if (stdin) {
    return (
      'Exiting with unacknowledged batches from standard input; their lines are lost ' +
      '(use --spool to keep them for the next start).'
    );
  }
  return 'Exiting with unacknowledged batches; their lines are read again on the next start.';
}

const GLOB_MAGIC = /[*?[\]{}]/;

/**
 * Inputs that can never yield lines are named before anything starts: a folder always; with
 * --once also a missing file and a glob that matches nothing (there is no end to wait for).
 * While following, a missing file or an empty glob is a warning: the file may appear later.
 */
async function checkInputs(
  inputs: string[],
  once: boolean,
  readGzip: boolean,
  log: ReturnType<typeof componentLogger>,
): Promise<void> {
  for (const input of inputs) {
    if (GLOB_MAGIC.test(input)) {
      const discovery = new FileDiscovery({
        paths: [input],
        excludePaths: [],
        cwd: process.cwd(),
        readGzip,
      });
      if ((await discovery.scan()).length > 0) continue;
      if (once) throw new ConfigError(`${input}: the glob matches no file.`);
      log.warn({ glob: input }, 'The glob matches no file yet; waiting for one to appear.');
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const problem = code === 'ENOENT' ? 'no such file' : (err as Error).message;
      if (once) throw new ConfigError(`${input}: ${problem}.`);
      log.warn({ file: input, problem }, 'Input file not there yet; waiting for it to appear.');
      continue;
    }
    if (info.isDirectory()) {
      throw new ConfigError(
        `${input}: is a directory; name the files to ship, e.g. ${join(input, '*.log')}.`,
      );
    }
  }
}

async function startHealth(address: string | undefined, shipper: Shipper) {
  if (!address) return undefined;
  const { host, port } = parseHostPort(address, '--health');
  const server: TelemetryServer = await startTelemetryServer({
    host,
    port,
    health: () => {
      const s = shipper.status();
      // Unhealthy: no link, or a batch has waited for its ack longer than a minute.
      const ok = s.connected && s.oldestUnackedSeconds < 60;
      return {
        ok,
        connected: s.connected,
        spool_batches: s.spoolBatches,
        spool_bytes: s.spoolBytes,
        oldest_unacked_seconds: Number(s.oldestUnackedSeconds.toFixed(3)),
        codec: s.codec,
        level: s.level,
        last_error: s.lastError,
      };
    },
  });
  componentLogger('ship').info(server.address, 'Health and metrics endpoint listening.');
  return server;
}

interface Run {
  done(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
  readonly stopping: boolean;
  /** Bytes of input not yet read, when known. */
  bytesBehind(): number | undefined;
}

function statusLine(shipper: Shipper, run: Run): void {
  const s = shipper.status();
  const ratio = s.wireBytes > 0 ? (s.rawBytes / s.wireBytes).toFixed(1) : '-';
  const setting = s.codec === 'none' ? 'none' : `${s.codec}-${s.level}`;
  const behind = run.bytesBehind();
  const parts = [
    s.connected ? 'connected' : `disconnected${s.lastError ? ` (${s.lastError})` : ''}`,
    `records sent ${s.recordsSent} acked ${s.recordsAcked}`,
    `${formatBytes(s.rawBytes)} -> ${formatBytes(s.wireBytes)} (${ratio}x ${setting})`,
    `spool ${s.spoolBatches} batches ${formatBytes(s.spoolBytes)} oldest ` +
      `${s.oldestUnackedSeconds.toFixed(1)}s`,
    `rtt p50 ${ms(s.rttP50Ms)} p99 ${ms(s.rttP99Ms)} ms`,
    `reconnects ${s.reconnects} retries ${s.retries} duplicates ${s.duplicates} ` +
      `dropped ${s.droppedRecords}`,
  ];
  if (behind !== undefined) parts.push(`behind ${formatBytes(behind)}`);
  process.stderr.write(`sluice ship: ${parts.join(' | ')}\n`);
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(1);
}

/** Standard input: lines are parsed and sent until end of input. */
class StdinRun implements Run {
  stopping = false;
  private readonly finished: Promise<void>;

  constructor(
    private readonly shipper: Shipper,
    private readonly parse: ParseOptions,
  ) {
    this.finished = this.read();
  }

  private async read(): Promise<void> {
    const parser = createLineParser({ ...this.parse, source: 'stdin' });
    const framer = new NewlineFramer();
    let records: LogRecord[] = [];
    let bytes = 0;
    const flush = async () => {
      if (records.length === 0) return;
      const batch = makeBatch(records, bytes);
      records = [];
      bytes = 0;
      await this.shipper.write(batch);
    };
    try {
      for await (const chunk of openInput('-')) {
        framer.push(chunk, (line) => {
          parser.push(line, records);
          bytes += line.length + 1;
        });
        await flush();
        if (this.stopping) break;
      }
    } catch (err) {
      // stop() destroys standard input to end a read waiting for data ("Premature close"):
      // that is the stop asked for, and what was read is still sent below.
      if (!this.stopping) throw err;
    }
    const last = framer.end();
    if (last !== undefined) parser.push(last, records);
    parser.flush(records);
    await flush();
  }

  done(): Promise<void> {
    return this.finished;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    process.stdin.destroy();
  }

  async close(): Promise<void> {}

  bytesBehind(): undefined {
    return undefined;
  }
}

interface FileRunOptions {
  format: Format | 'auto';
  startAt: 'beginning' | 'end';
  stateDir?: string;
  once: boolean;
  readGzip: boolean;
  batchSize: number;
  batchWaitMs: number;
  progress: boolean;
  spooled: boolean;
  /** The shipper's window: without a spool, enough input batches to fill it. */
  window: number;
}

const ONCE_CHECK_MS = 250;
/** With --once, checks without any file taken up before giving up: 10 s. */
const ONCE_NO_FILE_CHECKS = 40;

/** Files: followed by the capture tailer; with --once, stopped when all are read. */
class FileRun implements Run {
  stopping = false;
  private readonly source: FileSource;
  private readonly finished: Promise<void>;
  private onceTimer?: NodeJS.Timeout;
  private bar?: cliProgress.SingleBar;
  private readonly log = componentLogger('ship');

  constructor(
    private readonly shipper: Shipper,
    paths: string[],
    private readonly options: FileRunOptions,
  ) {
    this.source = createFileSource({
      paths,
      startAt: options.startAt,
      stateDir: options.stateDir,
      readGzip: options.readGzip,
      parse: { format: options.format },
      batchSize: options.batchSize,
      batchWaitMs: options.batchWaitMs,
      // With a disk spool acks come at fsync speed and few are needed; fewer pending batches
      // also bound what a kill can make the tailer read twice. Without, acks wait for the
      // collector, and more pending batches keep the window full.
      maxPendingBatches: options.spooled ? 4 : Math.max(16, 2 * options.window),
    });
    this.finished = this.source.run((batch) => this.shipper.write(batch));
    shipper.inputBehindBytes = () => this.source.metrics().reduce((n, f) => n + f.bytesBehind, 0);
    if (options.once) this.watchForEnd();
  }

  private watchForEnd(): void {
    let idleChecks = 0;
    let emptyChecks = 0;
    this.onceTimer = setInterval(() => {
      const files = this.source.metrics();
      const behind = files.reduce((n, f) => n + f.bytesBehind, 0);
      this.updateBar(files);
      idleChecks = files.length > 0 && behind === 0 ? idleChecks + 1 : 0;
      // Two quiet checks in a row: the files are read to their end.
      if (idleChecks >= 2) void this.stop();
      // Inputs were checked, but none could be taken up (unreadable, or gone since): an
      // archive waits for rotateWaitMs (5 s) to be quiet, so give up only well after that.
      emptyChecks = files.length === 0 ? emptyChecks + 1 : 0;
      if (emptyChecks >= ONCE_NO_FILE_CHECKS) {
        this.log.warn('No input file could be read; stopping (--once).');
        void this.stop();
      }
    }, ONCE_CHECK_MS);
  }

  private updateBar(files: Array<{ committedOffset: number; bytesBehind: number }>): void {
    if (!this.options.progress || files.length === 0) return;
    const read = files.reduce((n, f) => n + f.committedOffset, 0);
    const total = read + files.reduce((n, f) => n + f.bytesBehind, 0);
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'shipping [{bar}] {percentage}% | {value}/{total} bytes',
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, read);
    }
    this.bar.setTotal(total);
    this.bar.update(read);
  }

  done(): Promise<void> {
    return this.finished;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.onceTimer);
    await this.source.stop();
  }

  async close(): Promise<void> {
    clearInterval(this.onceTimer);
    await this.source.close(1_000);
    this.updateBar(this.source.metrics());
    this.bar?.stop();
  }

  bytesBehind(): number {
    return this.source.metrics().reduce((n, f) => n + f.bytesBehind, 0);
  }
}
