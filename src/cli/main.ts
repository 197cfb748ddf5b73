#!/usr/bin/env node
// The `sluice` command: builds the commander program from the command list and runs it.

import { Command } from 'commander';
import { loadersFor } from './commands.js';
import { quietOnBrokenPipe } from './run-action.js';
import { VERSION } from '../version.js';

async function main(): Promise<void> {
  quietOnBrokenPipe();
  const program = new Command('sluice')
    .description('A log pipeline: generate, capture, parse, ship, collect, store and query logs.')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride((err) => {
      // commander exits 1 on usage errors; sluice uses 2 for every error, as grep does.
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
      process.exit(ok || err.exitCode === 0 ? 0 : 2);
    });
  for (const load of loadersFor(process.argv.slice(2))) (await load()).register(program);
  await program.parseAsync(process.argv);
}

await main();
