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
