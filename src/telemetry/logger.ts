// sluice's own log: structured JSON lines through pino, on stderr so that stdout stays free
// for records. Messages are short capitalised sentences; details go in fields.

import { pino, type Logger } from 'pino';

let root: Logger | undefined;

/** The process logger. SLUICE_LOG_LEVEL (default info) sets its level. */
export function logger(): Logger {
  if (!root) {
    root = pino(
      { level: process.env.SLUICE_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
      pino.destination({ dest: 2, sync: true }),
    );
  }
  return root;
}

/** A child logger for one component: `component` appears on every line it writes. */
export function componentLogger(component: string): Logger {
  return logger().child({ component });
}
