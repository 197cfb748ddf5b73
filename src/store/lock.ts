// One writer per store folder: a LOCK file holding the writer's pid. A lock whose process is
// gone (a crash, SIGKILL) is taken over with a warning; a live one refuses the second writer.

import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { LOCK_FILE } from './format.js';

export interface StoreLock {
  path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else; it still holds the lock.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the pid in a LOCK file, or undefined when there is no lock. */
export function lockHolder(dir: string): Promise<number | undefined> {
  return Promise.resolve(lockHolderSync(dir));
}

/** lockHolder with a blocking read (a LOCK file is a few bytes). */
export function lockHolderSync(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, LOCK_FILE), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function acquireLock(dir: string): Promise<StoreLock> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await fsp.open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.sync();
      await fh.close();
      return { path, release: () => releaseLock(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`${dir}: cannot create lock file (${(err as Error).message})`, {
          cause: err,
        });
      }
    }
    const text = await fsp.readFile(path, 'utf8').catch(() => '');
    const pid = Number.parseInt(text, 10);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      const who = pid === process.pid ? 'this process' : `process ${pid}`;
      throw new StoreError(
        `${dir}: store is locked by ${who} (${path}); only one writer may open a store.`,
      );
    }
    // Loaded here: readers list segments (lockHolder) and should not load the logger.
    const { componentLogger } = await import('../telemetry/logger.js');
    componentLogger('store').warn(
      { dir, stalePid: Number.isInteger(pid) ? pid : null },
      'Taking over a stale store lock.',
    );
    await fsp.unlink(path).catch(() => undefined);
  }
  throw new StoreError(`${dir}: could not take the store lock at ${path}.`);
}

async function releaseLock(path: string): Promise<void> {
  const text = await fsp.readFile(path, 'utf8').catch(() => '');
  if (Number.parseInt(text, 10) === process.pid) await fsp.unlink(path).catch(() => undefined);
}
