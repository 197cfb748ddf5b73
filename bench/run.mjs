// `npm run bench`: runs every benchmark script in this folder one after another (they share
// two cores, so never in parallel), then gathers their JSON results into one summary file.
// BENCH_SCALE (a fraction, default 1) shrinks the inputs; BENCH_ONLY=parse,store picks some.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('lib'))
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, '')))
  .sort();

mkdirSync(join(here, 'results'), { recursive: true });
const summary = { scale: Number(process.env.BENCH_SCALE ?? 1), started: new Date().toISOString() };
let failed = 0;
for (const script of scripts) {
  const name = script.replace(/\.mjs$/, '');
  console.log(`\n=== bench ${name}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(here, script)], { stdio: 'inherit' });
  const resultFile = join(here, 'results', `${name}.json`);
  summary[name] = {
    exitCode: run.status,
    seconds: (Date.now() - started) / 1000,
    result: existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : null,
  };
  if (run.status !== 0) failed++;
}
writeFileSync(join(here, 'results', 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(
  `\nbench: ${scripts.length - failed} passed, ${failed} failed; bench/results/summary.json`,
);
process.exit(failed > 0 ? 1 : 0);
