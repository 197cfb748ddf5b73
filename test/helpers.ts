// Shared test helpers: where the repository, the built CLI and the fixtures are, temporary
// folders, and running the real `sluice` command as a child process.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function findRoot(start: string): string {
  let dir = start;
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) {
      return dir;
    }
    dir = dirname(dir);
  }
  throw new Error(`No repository root above ${start}`);
}

/** The repository's root folder. */
export const REPO_ROOT = findRoot(here);

/** The built CLI that sits beside these compiled tests (dist/ or a private .build/ folder). */
export const CLI_PATH = resolve(here, '..', 'src', 'cli', 'main.js');

/** A path under test/fixtures. */
export function fixture(...parts: string[]): string {
  return join(REPO_ROOT, 'test', 'fixtures', ...parts);
}

/** ../shared/corpus when it exists beside the repository (the loghub files live only there). */
export function sharedCorpus(): string | undefined {
  const dir = resolve(REPO_ROOT, '..', 'shared', 'corpus');
  return existsSync(dir) ? dir : undefined;
}

/** A fresh temporary folder, removed when `cleanup` is called. */
export function tempDir(prefix = 'sluice-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `sluice ARGS...` to completion and returns its exit status and output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolvePromise) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Starts `sluice ARGS...` and returns the child, for long-running commands. */
export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * Resolves with the first line of the child's stream that matches; rejects when the child
 * exits first or the time runs out, so a test never hangs on a server that did not start.
 */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  stream: 'stdout' | 'stderr' = 'stderr',
  timeoutMs = 15_000,
): Promise<RegExpExecArray> {
  const source = child[stream];
  if (!source) return Promise.reject(new Error(`child has no ${stream}`));
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const onData = (b: Buffer) => {
      buffered += b.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = pattern.exec(line);
        if (m) {
          done();
          resolvePromise(m);
          return;
        }
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`child exited (${code}) before printing ${pattern}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${pattern}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      source.off('data', onData);
      child.off('exit', onExit);
    };
    source.on('data', onData);
    child.on('exit', onExit);
  });
}
