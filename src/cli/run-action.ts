// Wraps a command's action so that every failure ends the same way: one line on stderr that
// names the command and the problem, and exit status 2 (grep's convention for errors).

import { SluiceError } from '../errors.js';

export type Action<A extends unknown[]> = (...args: A) => Promise<number | void> | number | void;

export function runAction<A extends unknown[]>(command: string, action: Action<A>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await action(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (err) {
      process.exitCode = err instanceof SluiceError ? err.exitCode : 2;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`sluice ${command}: ${message}\n`);
      if (!(err instanceof SluiceError) && process.env.SLUICE_DEBUG) {
        process.stderr.write(`${(err as Error).stack}\n`);
      }
    }
  };
}

/**
 * Lets `sluice ... | head` end quietly: a closed stdout is not an error. Any other write
 * failure (a full disk behind a redirection, say) ends the command with one line and exit 2.
 */
export function quietOnBrokenPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`sluice: cannot write to standard output: ${err.message}\n`);
    process.exit(2);
  });
}
