// The list of sluice commands. Each command lives in its own file and registers itself on
// the program; adding a command means adding one line here. Commands load lazily: running
// `sluice parse` imports only the parse command's modules, which keeps start-up short.

import type { Command } from 'commander';

type Register = (program: Command) => void;
type Loader = () => Promise<{ register: Register }>;

export const COMMANDS: Record<string, Loader> = {
  parse: () => import('./parse.js'),
  query: () => import('./query.js'),
  generate: () => import('./generate.js'),
  capture: () => import('./capture.js'),
  store: () => import('./store.js'),
  serve: () => import('./serve.js'),
  ship: () => import('./ship.js'),
  certs: () => import('./certs.js'),
  run: () => import('./run.js'),
  demo: () => import('./demo.js'),
};

/** The loaders a command line needs: its command's alone, or all of them for help. */
export function loadersFor(argv: readonly string[]): Loader[] {
  // `sluice --version` needs no command: loading them all cost most of a second of CPU.
  if (argv.length === 1 && (argv[0] === '-V' || argv[0] === '--version')) return [];
  const first = argv.find((a) => !a.startsWith('-'));
  const own = first !== undefined && first !== 'help' ? COMMANDS[first] : undefined;
  return own ? [own] : Object.values(COMMANDS);
}
