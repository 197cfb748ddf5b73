// `sluice demo` (what `npm start` runs): the whole pipeline as separate processes on loopback,
// with a live status and a conservation report at the end.

import type { Command } from 'commander';
import { runDemo } from '../pipeline/demo/demo.js';
import { parseDurationMs, parsePositiveInt } from '../util/units.js';
import { runAction } from './run-action.js';

interface DemoFlags {
  dir: string;
  duration?: string;
  rate: string;
  statusInterval: string;
  rotateKeep: string;
}

async function demo(flags: DemoFlags): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const result = await runDemo({
    dir: flags.dir,
    durationMs: flags.duration ? parseDurationMs(flags.duration, '--duration') : undefined,
    ratePerSec: parsePositiveInt(flags.rate, '--rate'),
    statusIntervalMs: parseDurationMs(flags.statusInterval, '--status-interval'),
    rotateKeep: parsePositiveInt(flags.rotateKeep, '--rotate-keep'),
    out: (line) => process.stdout.write(line + '\n'),
    signal: stop.signal,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return result.balanced ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('Run the whole pipeline on loopback: generate, ship over TLS, collect, store.')
    .option('--dir <dir>', 'folder for certificates, logs, spool and store', './sluice-demo')
    .option('--duration <duration>', 'stop after this long (default: run until Ctrl-C)')
    .option('--rate <n>', 'lines per second of each of the three generators', '200')
    .option('--status-interval <duration>', 'period of the live status line', '2s')
    .option('--rotate-keep <n>', 'rotated files each generator keeps', '50')
    .action(runAction('demo', demo));
}
