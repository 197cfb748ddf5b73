// --follow: read a file to its end, then keep reading as it grows, like `tail -F`. A rename
// rotation (the path now names another file) is noticed by inode: the old file is read to its
// end, then the new one from its start. A truncation (copytruncate) restarts at offset 0.

import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { BlockAssembler, openFile, type Block, type BlockSource } from './read.js';

export interface FollowOptions {
  /** How often the path is checked when no change event arrives. */
  pollIntervalMs: number;
  /** Ends following (Ctrl-C, --limit reached). */
  signal: AbortSignal;
  maxLineBytes?: number;
}

export const DEFAULT_POLL_INTERVAL_MS = 250;

/** Blocks of a followed file; ends only when the signal aborts. */
export function followBlocks(path: string, options: FollowOptions): BlockSource {
  const assembler = new BlockAssembler(options.maxLineBytes);
  const waker = new Waker(path, options);
  async function* blocks(): AsyncGenerator<Block> {
    let fh: FileHandle | undefined = await openFile(path);
    let ino = (await fh.stat()).ino;
    let position = 0;
    try {
      while (!options.signal.aborted) {
        if (fh) {
          const got = yield* drain(fh, position, assembler);
          position += got;
        }
        const now = await stat(path).catch(() => undefined);
        if (now && (fh === undefined || now.ino !== ino)) {
          // Rotated: read what was appended to the old file before the switch, then its
          // unterminated last line is complete.
          if (fh) yield* drain(fh, position, assembler);
          const rest = assembler.rest();
          if (rest && fh) yield rest;
          assembler.reset();
          await fh?.close();
          fh = await openFile(path).catch(() => undefined);
          ino = fh ? (await fh.stat()).ino : -1;
          position = 0;
          continue;
        }
        if (now && fh && now.size < position) {
          assembler.reset();
          position = 0;
          continue;
        }
        if (now && now.size > position) continue;
        await waker.wait();
      }
    } finally {
      waker.close();
      await fh?.close();
    }
  }
  return { blocks, stats: assembler.stats };
}

async function* drain(fh: FileHandle, from: number, assembler: BlockAssembler) {
  let position = from;
  for (;;) {
    const space = assembler.space();
    const { bytesRead } = await fh.read(space.buf, space.offset, space.length, position);
    if (bytesRead === 0) return position - from;
    position += bytesRead;
    const block = assembler.commit(bytesRead);
    if (block) {
      yield block;
      assembler.consumed(block.end);
    }
  }
}

/** Resolves on a change event in the file's folder, after the poll interval, or on abort. */
class Waker {
  private watcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;

  constructor(
    path: string,
    private readonly options: FollowOptions,
  ) {
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), (_event, file) => {
        if (file === null || file === name) this.wake?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      // Some file systems cannot be watched; polling alone still works.
      this.watcher = undefined;
    }
  }

  wait(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.options.signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollIntervalMs);
      this.options.signal.addEventListener('abort', done);
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
