// Benchmark of `sluice parse`: NDJSON to /dev/null and --stats on a combined access log of
// 1 GB × BENCH_SCALE and on a mixed-format file, against peers measured in the same run on the
// same file: lnav counting 5xx through SQL, goaccess writing its JSON report, and a bare Node
// loop that only splits the file into lines. Prints lines/s, MB/s, peak RSS and ratios, and
// writes bench/results/parse.json.

import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(process.env.SLUICE_CLI ?? join(here, '..', 'dist', 'src', 'cli', 'main.js'));
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ACCESS_BYTES = Math.round(1e9 * SCALE);
const MIXED_BYTES = Math.round(2e8 * SCALE);
const dataDir = join(tmpdir(), 'sluice-bench-parse');

/** Deterministic pseudo-random numbers, so every run parses the same file. */
function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const PATHS = [
  '/',
  '/index.html',
  '/api/v1/items',
  '/api/v1/items/42',
  '/img/logo.png',
  '/search?q=logs&page=2',
  '/login',
  '/static/app.js',
  '/robots.txt',
  '/favicon.ico',
];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'curl/8.4.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
];
const STATUSES = [200, 200, 200, 200, 200, 304, 301, 404, 403, 500, 502];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');
const CLIENTS = (() => {
  const r = rng(99);
  return Array.from(
    { length: 20_000 },
    () => `${(r() * 223 + 1) | 0}.${(r() * 256) | 0}.${(r() * 256) | 0}.${(r() * 256) | 0}`,
  );
})();

function accessLine(r, t) {
  const d = new Date(t);
  // Clients repeat as in real traffic: 20,000 addresses, a few of them very busy.
  const ip = CLIENTS[(CLIENTS.length * r() ** 3) | 0];
  const time =
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  const path = PATHS[(r() * PATHS.length) | 0];
  const status = STATUSES[(r() * STATUSES.length) | 0];
  const ref = r() < 0.5 ? '-' : 'https://www.example.com/start';
  return (
    `${ip} - - [${time}] "GET ${path} HTTP/1.1" ${status} ${(r() * 50000) | 0} "${ref}" ` +
    `"${AGENTS[(r() * AGENTS.length) | 0]}"\n`
  );
}

function mixedLine(r, t) {
  const d = new Date(t);
  const k = (r() * 5) | 0;
  if (k === 0) return accessLine(r, t);
  if (k === 1) {
    const day = String(d.getUTCDate()).padStart(2, ' ');
    return (
      `<38>${MONTHS[d.getUTCMonth()]} ${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:` +
      `${pad(d.getUTCSeconds())} web01 sshd[${(r() * 30000) | 0}]: Accepted publickey for deploy\n`
    );
  }
  if (k === 2) {
    return (
      `{"level":${[20, 30, 40, 50][(r() * 4) | 0]},"time":${t},"pid":42,"hostname":"app01",` +
      `"name":"billing","msg":"charge done","amount":${(r() * 1000) | 0}}\n`
    );
  }
  if (k === 3) {
    return `time="${d.toISOString()}" level=info msg="request served" path=/api dur_ms=${(r() * 90) | 0}\n`;
  }
  return (
    `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} [error] 12#12: *9 ` +
    `open() "/srv/x" failed (2: No such file or directory), client: 192.0.2.9, server: example.com\n`
  );
}

async function build(path, bytes, make, seed) {
  if (existsSync(path) && statSync(path).size >= bytes) return;
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const r = rng(seed);
  let t = Date.UTC(2024, 0, 1);
  let written = 0;
  while (written < bytes) {
    let chunk = '';
    while (chunk.length < 1 << 20) {
      chunk += make(r, t);
      t += 37;
    }
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise((ok) => out.once('drain', ok));
  }
  await new Promise((ok) => out.end(ok));
}

function countLines(path) {
  const buf = readFileSync(path);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Runs a command with stdout to /dev/null; wall time and peak RSS (GNU time's %M). */
function measure(cmd, args, opts = {}) {
  const haveTime = existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const r = haveTime
    ? spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], {
        stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'],
        maxBuffer: 64 << 20,
      })
    : spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const stderr = r.stderr?.toString() ?? '';
  const last = stderr.trim().split('\n').pop() ?? '';
  const [rssKb, user, sys] = haveTime ? last.split(' ').map(Number) : [NaN, NaN, NaN];
  const cpuSeconds = user + sys;
  return { seconds, cpuSeconds, rssMb: rssKb / 1024, status: r.status, stderr };
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function ensurePeers() {
  const missing = ['lnav', 'goaccess'].filter((c) => !have(c));
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(' ')} with apt-get`);
  spawnSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit' });
}

/** The bare Node loop: read, decode, split into lines, nothing else. */
async function nodeSplit(path) {
  const start = process.hrtime.bigint();
  let n = 0;
  let carry = '';
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const parts = (carry + chunk.toString('utf8')).split('\n');
    carry = parts.pop();
    n += parts.length;
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, lines: n };
}

function figure(name, lines, bytes, m) {
  const f = {
    name,
    seconds: +m.seconds.toFixed(3),
    lines_per_second: Math.round(lines / m.seconds),
    mb_per_second: +(bytes / 1e6 / m.seconds).toFixed(1),
    peak_rss_mb: Number.isFinite(m.rssMb) ? +m.rssMb.toFixed(1) : null,
    // Lines per CPU second: meaningful on a shared machine where wall time depends on load.
    lines_per_cpu_second: m.cpuSeconds > 0 ? Math.round(lines / m.cpuSeconds) : null,
  };
  const rss = f.peak_rss_mb === null ? '' : `, peak RSS ${f.peak_rss_mb} MB`;
  const cpu = f.lines_per_cpu_second === null ? '' : `, ${f.lines_per_cpu_second} lines/CPU-s`;
  console.log(
    `${name.padEnd(34)} ${String(f.lines_per_second).padStart(10)} lines/s, ` +
      `${String(f.mb_per_second).padStart(7)} MB/s${rss}${cpu}`,
  );
  return f;
}

async function main() {
  ensurePeers();
  const access = join(dataDir, `combined-${SCALE}.log`);
  const mixed = join(dataDir, `mixed-${SCALE}.log`);
  console.log(
    `BENCH_SCALE=${SCALE}: building ${(ACCESS_BYTES / 1e6).toFixed(0)} MB combined log ` +
      `and ${(MIXED_BYTES / 1e6).toFixed(0)} MB mixed log in ${dataDir}`,
  );
  await build(access, ACCESS_BYTES, accessLine, 1);
  await build(mixed, MIXED_BYTES, mixedLine, 2);
  const accessLines = countLines(access);
  const accessBytes = statSync(access).size;
  const mixedLines = countLines(mixed);
  const mixedBytes = statSync(mixed).size;
  console.log(`combined: ${accessLines} lines; mixed: ${mixedLines} lines; sluice: ${CLI}`);
  const node = process.execPath;
  // The machine's load changes wall-clock figures a lot; lines per CPU-second much less.
  const loadBefore = loadavg().map((x) => +x.toFixed(2));
  console.log(`load average at start: ${loadBefore.join(' ')}`);
  const results = { scale: SCALE, cli: CLI, load_average: {}, files: {}, figures: {}, ratios: {} };
  results.files = {
    combined: { bytes: accessBytes, lines: accessLines },
    mixed: { bytes: mixedBytes, lines: mixedLines },
  };
  const F = results.figures;
  F.parse_ndjson = figure(
    'sluice parse (NDJSON, combined)',
    accessLines,
    accessBytes,
    measure(node, [CLI, 'parse', access]),
  );
  F.parse_stats = figure(
    'sluice parse --stats (combined)',
    accessLines,
    accessBytes,
    measure(node, [CLI, 'parse', '--stats', '--output', 'json', access]),
  );
  F.parse_ndjson_mixed = figure(
    'sluice parse (NDJSON, mixed)',
    mixedLines,
    mixedBytes,
    measure(node, [CLI, 'parse', mixed]),
  );
  F.parse_stats_mixed = figure(
    'sluice parse --stats (mixed)',
    mixedLines,
    mixedBytes,
    measure(node, [CLI, 'parse', '--stats', '--output', 'json', mixed]),
  );
  const cpuBefore = process.cpuUsage();
  const split = await nodeSplit(access);
  const used = process.cpuUsage(cpuBefore);
  split.cpuSeconds = (used.user + used.system) / 1e6;
  F.node_split = figure('bare Node split loop (combined)', accessLines, accessBytes, {
    seconds: split.seconds,
    cpuSeconds: split.cpuSeconds,
    rssMb: NaN,
  });
  if (have('lnav')) {
    const m = measure(
      'lnav',
      ['-n', '-c', ';SELECT count(*) FROM access_log WHERE sc_status >= 500', access],
      { stdout: 'pipe' },
    );
    F.lnav_sql_5xx = figure('lnav SQL count of 5xx (combined)', accessLines, accessBytes, m);
  }
  if (have('goaccess')) {
    const out = join(dataDir, 'goaccess-report.json');
    const m = measure('goaccess', [access, '--log-format=COMBINED', '-o', out, '--no-progress']);
    F.goaccess_json = figure('goaccess JSON report (combined)', accessLines, accessBytes, m);
  }
  const ratio = (a, b) =>
    F[a] && F[b] ? +(F[a].lines_per_second / F[b].lines_per_second).toFixed(2) : null;
  results.ratios = {
    stats_vs_lnav: ratio('parse_stats', 'lnav_sql_5xx'),
    ndjson_vs_lnav: ratio('parse_ndjson', 'lnav_sql_5xx'),
    stats_vs_goaccess: ratio('parse_stats', 'goaccess_json'),
    ndjson_vs_node_split: ratio('parse_ndjson', 'node_split'),
    stats_vs_node_split: ratio('parse_stats', 'node_split'),
  };
  const cpuRatio = (a, b) =>
    F[a]?.lines_per_cpu_second && F[b]?.lines_per_cpu_second
      ? +(F[a].lines_per_cpu_second / F[b].lines_per_cpu_second).toFixed(2)
      : null;
  results.ratios.stats_vs_lnav_cpu = cpuRatio('parse_stats', 'lnav_sql_5xx');
  results.ratios.ndjson_vs_lnav_cpu = cpuRatio('parse_ndjson', 'lnav_sql_5xx');
  for (const [k, v] of Object.entries(results.ratios)) console.log(`ratio ${k.padEnd(22)} ${v}`);
  results.load_average = { start: loadBefore, end: loadavg().map((x) => +x.toFixed(2)) };
  console.log(`load average at end: ${results.load_average.end.join(' ')}`);
  mkdirSync(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'parse.json'), JSON.stringify(results, null, 2) + '\n');
  console.log('wrote bench/results/parse.json');
}

await main();
