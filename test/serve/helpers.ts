// Helpers for the collector tests: an in-memory sink, a collector on 127.0.0.1:0, and
// clients that write exact byte pieces.

import { connect, type Socket } from 'node:net';
import type { LogRecord } from '../../src/record/record.js';
import type { AppendResult } from '../../src/framing/detect.js';
import {
  createCollector,
  type Collector,
  type CollectorOptions,
  type CollectorSettings,
} from '../../src/net/collector.js';
import { decoderFor, framerFor } from '../../src/net/decode.js';
import { SERVE_DEFAULTS } from '../../src/config/serve.js';
import { pino } from 'pino';
import type { ChildProcess } from 'node:child_process';
import { openStoreReader } from '../../src/store/index.js';
import { spawnCli, waitForLine } from '../helpers.js';

export class MemorySink {
  records: LogRecord[] = [];
  appends = 0;
  closed = false;
  private readonly ids = new Set<string>();
  constructor(private readonly delayMs = 0) {}
  async append(records: LogRecord[], opts: { batchId?: string } = {}): Promise<AppendResult> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (opts.batchId !== undefined) {
      if (this.ids.has(opts.batchId)) return { stored: 0, duplicate: true };
      this.ids.add(opts.batchId);
    }
    this.appends++;
    for (const r of records) this.records.push(r);
    return { stored: records.length, duplicate: false };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface Started {
  collector: Collector;
  sink: MemorySink;
  port: number;
}

export async function startCollector(
  settings: Partial<CollectorSettings> = {},
  sink = new MemorySink(),
  options: Pick<CollectorOptions, 'topTalkerWindowMs'> = {},
): Promise<Started> {
  const collector = createCollector({
    ...options,
    sink,
    settings: { ...SERVE_DEFAULTS, ...settings },
    framerFor,
    decoderFor: (framing, peer) => decoderFor(framing, peer),
    logger: pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }),
    summaryIntervalMs: 0,
  });
  const { port } = await collector.listenTcp('127.0.0.1', 0);
  return { collector, sink, port };
}

export function connectTo(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes pieces with a pause between them, so each arrives as its own read. */
export async function writePieces(socket: Socket, pieces: Buffer[], gapMs = 30): Promise<void> {
  for (const p of pieces) {
    await new Promise<void>((r) => socket.write(p, () => r()));
    await new Promise((r) => setTimeout(r, gapMs));
  }
}

/** Ends the socket and resolves when the server has closed it too. */
export function endAndWait(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (b: Buffer) => (got += b.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got));
    socket.end();
  });
}

/** Polls until check() is true or the time runs out. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition') {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts `sluice serve` on 127.0.0.1:0 and reads its port from the "Listening." line. */
export async function startServe(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnCli(['serve', '--tcp', '127.0.0.1:0', ...args]);
  const m = await waitForLine(child, /"msg":"Listening\."/, 'stderr', 20_000);
  return { child, port: JSON.parse(m.input).port as number };
}

export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  return new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

export async function readStore(dir: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const reader = openStoreReader(dir);
  try {
    for await (const batch of reader) out.push(...batch);
  } finally {
    reader.close();
  }
  return out;
}
