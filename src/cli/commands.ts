// The list of sluice commands. Each command lives in its own file and registers itself on
// the program; adding a command means adding one line here.

import type { Command } from 'commander';

type Register = (program: Command) => void;

export const COMMANDS: Array<() => Promise<{ register: Register }>> = [
  () => import('./certs.js'),
  () => import('./parse.js'),
  () => import('./ship.js'),
  () => import('./capture.js'),
  () => import('./generate.js'),
  () => import('./serve.js'),
  () => import('./query.js'),
  () => import('./store.js'),
  () => import('./run.js'),
  () => import('./demo.js'),
];
