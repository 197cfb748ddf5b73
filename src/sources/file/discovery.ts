// Finds the files the globs select: a folder walk from each glob's fixed base (the slow,
// certain path), and a chokidar watcher on those folders that reports new, changed and
// removed files at once (the fast path). chokidar 4 has no globs, so matching is ours.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { compileGlob, matchesAny, type CompiledGlob } from '../../util/glob.js';

export interface DiscoveryOptions {
  paths: string[];
  excludePaths: string[];
  cwd: string;
  readGzip: boolean;
}

export class FileDiscovery {
  readonly include: CompiledGlob[];
  readonly exclude: CompiledGlob[];
  private watcher?: FSWatcher;

  constructor(private readonly opts: DiscoveryOptions) {
    this.include = opts.paths.map((p) => compileGlob(p, opts.cwd));
    this.exclude = opts.excludePaths.map((p) => compileGlob(p, opts.cwd));
  }

  /** True when the absolute path is one this source follows. */
  selects(path: string): boolean {
    if (!matchesAny(path, this.include) || matchesAny(path, this.exclude)) return false;
    // Rotated archives are compressed bytes, not lines: read only when asked for.
    if (!this.opts.readGzip && path.endsWith('.gz')) return false;
    return true;
  }

  /** Every selected file that exists now. */
  async scan(): Promise<string[]> {
    const found = new Set<string>();
    for (const glob of this.include) await this.walk(glob.baseDir, glob.depth, found);
    return [...found].sort();
  }

  /** Starts the watcher; `onAdd`/`onChange`/`onUnlink` get absolute selected paths. */
  watch(handlers: {
    onAdd: (path: string) => void;
    onChange: (path: string) => void;
    onUnlink: (path: string) => void;
    onError: (err: unknown) => void;
  }): void {
    const bases = [...new Set(this.include.map((g) => g.baseDir))];
    const depth = Math.max(...this.include.map((g) => g.depth));
    this.watcher = watch(bases, {
      ignoreInitial: true,
      persistent: true,
      depth: Number.isFinite(depth) ? depth : undefined,
      // Folders only need descending into when some glob reaches below its base.
      ignored: (path, stats) => (stats?.isFile() ? !this.selects(path) : false),
    });
    this.watcher.on('add', (p) => this.selects(p) && handlers.onAdd(p));
    this.watcher.on('change', (p) => this.selects(p) && handlers.onChange(p));
    this.watcher.on('unlink', (p) => this.selects(p) && handlers.onUnlink(p));
    this.watcher.on('error', handlers.onError);
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = undefined;
  }

  private async walk(dir: string, depth: number, found: Set<string>): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      // A base folder that does not exist yet is normal: files may appear later.
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isFile() || entry.isSymbolicLink()) {
        if (this.selects(path)) found.add(path);
      } else if (entry.isDirectory() && depth > 0) {
        await this.walk(path, depth - 1, found);
      }
    }
  }
}
