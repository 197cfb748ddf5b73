// Checkpoints: each followed file's identity and the offset up to which its records were
// delivered. Written atomically (temp file, fsync, rename, fsync of the folder) so that a
// crash leaves either the old or the new state, never a torn one.

import { mkdirSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { IoError } from '../../errors.js';
import type { Fingerprint } from './identity.js';

export const CHECKPOINT_FILE = 'checkpoints.json';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointEntry {
  path: string;
  dev: number;
  ino: number;
  fingerprint: Fingerprint;
  /** Byte offset just past the last line whose records were delivered. */
  offset: number;
}

/** One file's part of a batch: the bytes [start, end) of the file dev:ino. */
export interface BatchRange {
  dev: number;
  ino: number;
  start: number;
  end: number;
}

/**
 * A batch that was cut but whose lines are not all checkpointed yet: enough to cut it again,
 * identically, after a crash (same lines, same identity), so a destination can drop a repeat.
 */
export interface OpenBatchEntry {
  /** When the batch was cut (ms since the epoch); part of its identity. */
  cutAt: number;
  ranges: BatchRange[];
}

export interface CheckpointState {
  version: number;
  updated: string;
  files: CheckpointEntry[];
  /** Cut batches not yet checkpointed, oldest first (absent in older checkpoint files). */
  batches?: OpenBatchEntry[];
}

const entrySchema = z.object({
  path: z.string(),
  dev: z.number(),
  ino: z.number(),
  fingerprint: z.object({ bytes: z.number().int().min(0), hash: z.string() }),
  offset: z.number().int().min(0),
});
const rangeSchema = z.object({
  dev: z.number(),
  ino: z.number(),
  start: z.number().int().min(0),
  end: z.number().int().min(0),
});
const stateSchema = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  updated: z.string(),
  files: z.array(entrySchema),
  batches: z
    .array(z.object({ cutAt: z.number().int().min(0), ranges: z.array(rangeSchema) }))
    .optional(),
});

export class CheckpointStore {
  readonly file: string;
  private writing: Promise<void> = Promise.resolve();
  private pending?: { files: CheckpointEntry[]; batches: OpenBatchEntry[] };
  private writes = 0;

  constructor(readonly dir: string) {
    this.file = join(dir, CHECKPOINT_FILE);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new IoError(`state folder ${dir}: cannot create it (${(err as Error).message}).`);
    }
  }

  /** The stored state, or undefined on a first start (no checkpoint file yet). */
  async load(): Promise<CheckpointState | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new IoError(`checkpoint ${this.file}: cannot read it (${(err as Error).message}).`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new IoError(`checkpoint ${this.file}: not valid JSON; move it away to start over.`);
    }
    const result = stateSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new IoError(
        `checkpoint ${this.file}: ${issue.path.join('.')} ${issue.message}; ` +
          'move it away to start over.',
      );
    }
    return result.data;
  }

  /**
   * Saves the entries. Calls made while a write is in flight coalesce into one follow-up
   * write of the newest entries; the promise resolves once those entries are durable.
   */
  save(entries: CheckpointEntry[], batches: OpenBatchEntry[] = []): Promise<void> {
    const first = this.pending === undefined;
    this.pending = { files: entries, batches };
    if (first) {
      // A failed write is reported to its caller; the next save still gets its turn.
      this.writing = this.writing
        .catch(() => undefined)
        .then(() => {
          const next = this.pending ?? { files: [], batches: [] };
          this.pending = undefined;
          return this.write(next.files, next.batches);
        });
    }
    return this.writing;
  }

  /** Resolves when every save requested so far is durable. */
  flushed(): Promise<void> {
    return this.writing;
  }

  get writeCount(): number {
    return this.writes;
  }

  private async write(entries: CheckpointEntry[], batches: OpenBatchEntry[]): Promise<void> {
    const state: CheckpointState = {
      version: CHECKPOINT_VERSION,
      updated: new Date().toISOString(),
      files: entries,
    };
    if (batches.length > 0) state.batches = batches;
    const temp = `${this.file}.tmp`;
    try {
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(`${JSON.stringify(state)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
      await syncDir(this.dir);
      this.writes++;
    } catch (err) {
      throw new IoError(`checkpoint ${this.file}: cannot write it (${(err as Error).message}).`);
    }
  }
}

/** fsync of a folder makes a rename in it durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
