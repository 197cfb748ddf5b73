// `sluice run FILE`: runs the pipeline a config file describes; `--check` only validates it.
// On exit, and on SIGUSR1, it prints the conservation report on stderr.

import type { Command } from 'commander';
import { loadPipelineConfig } from '../pipeline/config.js';
import { buildStage } from '../pipeline/build.js';
import { Pipeline, type StageRuntime } from '../pipeline/graph.js';
import { conservationReport, formatConservation } from '../pipeline/conservation.js';
import { componentLogger } from '../telemetry/logger.js';
import { runAction } from './run-action.js';

interface RunFlags {
  check?: boolean;
  report?: 'text' | 'json';
}

async function run(file: string, flags: RunFlags): Promise<number> {
  const config = loadPipelineConfig(file);
  if (flags.check) {
    process.stderr.write(`${file}: valid; ${config.stages.length} stages.\n`);
    return 0;
  }
  const log = componentLogger('run');
  const runtimes: StageRuntime[] = [];
  for (const stage of config.stages) runtimes.push(await buildStage(stage));
  const edges = config.stages.flatMap((s) => s.inputs.map((from) => ({ from, to: s.name })));
  const pipeline = new Pipeline(runtimes, edges);

  const report = async () => {
    const rows = await conservationReport(config.stages);
    if (flags.report === 'json')
      process.stderr.write(JSON.stringify({ conservation: rows }) + '\n');
    else process.stderr.write(formatConservation(rows) + '\n');
    return rows;
  };
  const onUsr1 = () => void report();
  const onStop = () => {
    log.info('Stopping: sources end, then sinks drain.');
    pipeline.stop();
  };
  process.on('SIGUSR1', onUsr1);
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);
  log.info({ file, stages: config.stages.length }, 'Pipeline started.');
  try {
    await pipeline.run();
  } finally {
    process.off('SIGUSR1', onUsr1);
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
  }
  const rows = await report();
  return rows.every((r) => r.balanced) ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Run a pipeline of sources, transforms and sinks from a YAML config file.')
    .argument('<file>', 'the pipeline config file (see docs/run.md)')
    .option('--check', 'only validate the file, then exit')
    .option('--report <format>', 'conservation report format: text or json', 'text')
    .action(runAction('run', run));
}
