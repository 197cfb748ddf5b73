// Helpers for the capture tests: run a file source in-process and collect what it emits,
// and poll for a condition with a deadline so a test fails instead of hanging.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createFileSource,
  type FileBatch,
  type FileSourceOptions,
} from '../../src/sources/file/index.js';
import type { LogRecord } from '../../src/record/record.js';

export interface Collector {
  records: LogRecord[];
  batches: FileBatch[];
  messages(): string[];
  stop(): Promise<void>;
  source: ReturnType<typeof createFileSource>;
}

/** Starts a source that acknowledges every batch (unless `ack` says otherwise). */
export async function collect(
  opts: FileSourceOptions,
  ack: (b: FileBatch) => boolean = () => true,
): Promise<Collector> {
  const source = createFileSource({ pollIntervalMs: 50, scanIntervalMs: 200, ...opts });
  const records: LogRecord[] = [];
  const batches: FileBatch[] = [];
  await source.start();
  const loop = source.run((b) => {
    batches.push(b);
    records.push(...b.records);
    if (ack(b)) b.ack.delivered();
  });
  return {
    records,
    batches,
    source,
    messages: () => records.map((r) => r.message),
    stop: async () => {
      await source.close(2000);
      await loop;
    },
  };
}

/** Polls `check` every 25 ms until it is true; throws with `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every record line of every batch file in a folder (temp files are skipped). */
export function readBatchFiles(dir: string): { files: string[]; lines: string[] } {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.ndjson') && !n.startsWith('.'));
  } catch {
    return { files: [], lines: [] };
  }
  names.sort();
  const lines: string[] = [];
  for (const n of names) {
    const text = readFileSync(join(dir, n), 'utf8');
    for (const l of text.split('\n')) if (l !== '') lines.push(l);
  }
  return { files: names, lines };
}

/** A running `sluice capture --out -` whose stdout records are parsed as they come. */
export interface RunningCapture {
  records: Array<Record<string, unknown>>;
  stderr: () => string;
  waitRecords(n: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit status (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  child: import('node:child_process').ChildProcess;
}

export async function startCapture(args: string[]): Promise<RunningCapture> {
  const { spawnCli, waitForLine } = await import('../helpers.js');
  const child = spawnCli(['capture', '--out', '-', '--poll-interval', '100ms', ...args]);
  const records: Array<Record<string, unknown>> = [];
  let err = '';
  let buffered = '';
  child.stdout?.on('data', (b: Buffer) => {
    buffered += b.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      records.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  });
  child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  try {
    await waitForLine(child, /^sluice capture: following/, 'stderr', 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    records,
    stderr: () => err,
    waitRecords: (n, timeoutMs = 15_000) =>
      waitUntil(() => records.length >= n, `${n} records (have ${records.length})`, timeoutMs),
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
