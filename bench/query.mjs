// Benchmark of `sluice query` against the peers the issue names, each run in the same process
// on the same file: a literal search (GNU grep -c, rg -c), a status filter (mawk, lnav SQL),
// --level error on NDJSON (jq), --stats --top http.path (lnav SQL GROUP BY), and a 1% time
// window read from a store versus from the flat file. Inputs: a combined access log of
// 1 GB × BENCH_SCALE and an NDJSON application log of 500 MB × BENCH_SCALE. Prints MB/s, peak
// RSS and ratios, and writes bench/results/query.json.

import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(process.env.SLUICE_CLI ?? join(here, '..', 'dist', 'src', 'cli', 'main.js'));
const BUILD = resolve(dirname(CLI), '..');
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ACCESS_BYTES = Math.round(1e9 * SCALE);
const NDJSON_BYTES = Math.round(5e8 * SCALE);
const dataDir = join(tmpdir(), 'sluice-bench-query');
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** Deterministic pseudo-random numbers, so every run reads the same files. */
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
/** The searched literal: a rare page (about 0.5% of requests). */
const LITERAL = '/checkout/confirm';
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'curl/8.4.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 304, 301, 404, 403, 200, 200, 200, 200, 500];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');

function accessLine(r, t) {
  const d = new Date(t);
  const ip = `${(r() * 223 + 1) | 0}.${(r() * 256) | 0}.${(r() * 256) | 0}.${(r() * 256) | 0}`;
  const time =
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  const path = r() < 0.005 ? LITERAL : PATHS[(r() * PATHS.length) | 0];
  const status = STATUSES[(r() * STATUSES.length) | 0];
  const ref = r() < 0.5 ? '-' : 'https://www.example.com/start';
  return (
    `${ip} - - [${time}] "GET ${path} HTTP/1.1" ${status} ${(r() * 50000) | 0} "${ref}" ` +
    `"${AGENTS[(r() * AGENTS.length) | 0]}"\n`
  );
}

const SERVICES = ['api', 'billing', 'auth', 'search', 'worker'];
const INFO_MESSAGES = [
  'request handled',
  'cache refreshed',
  'user signed in',
  'job finished',
  'connection reused',
];
function ndjsonLine(r, t) {
  const x = r();
  const level = x < 0.02 ? 'error' : x < 0.07 ? 'warn' : x < 0.2 ? 'debug' : 'info';
  const msg =
    level === 'error'
      ? 'upstream timed out after 30000 ms'
      : level === 'warn'
        ? 'slow query took 1200 ms'
        : INFO_MESSAGES[(r() * INFO_MESSAGES.length) | 0];
  return (
    JSON.stringify({
      time: new Date(t).toISOString(),
      level,
      service: SERVICES[(r() * SERVICES.length) | 0],
      msg,
      req_id: ((r() * 2 ** 32) >>> 0).toString(16),
      user_id: (r() * 100000) | 0,
      duration_ms: (r() * 500) | 0,
    }) + '\n'
  );
}

async function generate(path, bytes, lineOf, seed) {
  if (existsSync(path) && statSync(path).size >= bytes) return;
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const r = rng(seed);
  let written = 0;
  let t = T0;
  while (written < bytes) {
    let chunk = '';
    while (chunk.length < 1 << 20) {
      t += 5 + ((r() * 20) | 0);
      chunk += lineOf(r, t);
    }
    written += chunk.length;
    if (!out.write(chunk)) await new Promise((res) => out.once('drain', res));
  }
  await new Promise((res) => out.end(res));
}

/** Runs a command; wall time, peak RSS (GNU time's %M) and its output. */
function measure(cmd, args, opts = {}) {
  const haveTime = existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const r = haveTime
    ? spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], {
        stdio: ['ignore', opts.discard ? 'ignore' : 'pipe', 'pipe'],
        maxBuffer: 256 << 20,
        env: { ...process.env, NO_COLOR: '1' },
      })
    : spawnSync(cmd, args, { stdio: ['ignore', opts.discard ? 'ignore' : 'pipe', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const stderr = r.stderr?.toString() ?? '';
  const [rssKb, user, sys] = haveTime
    ? (stderr.trim().split('\n').pop() ?? '').split(' ').map(Number)
    : [NaN, NaN, NaN];
  const cpuSeconds = user + sys;
  const out = r.stdout?.toString() ?? '';
  return { seconds, cpuSeconds, rssMb: rssKb / 1024, status: r.status, stdout: out };
}

const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

const figures = [];
function report(group, name, bytes, m, answer) {
  const f = {
    group,
    name,
    seconds: +m.seconds.toFixed(3),
    mb_per_second: +(bytes / 1e6 / m.seconds).toFixed(1),
    cpu_seconds: Number.isFinite(m.cpuSeconds) ? +m.cpuSeconds.toFixed(2) : null,
    mb_per_cpu_second: Number.isFinite(m.cpuSeconds)
      ? +(bytes / 1e6 / Math.max(m.cpuSeconds, 0.01)).toFixed(1)
      : null,
    peak_rss_mb: Number.isFinite(m.rssMb) ? +m.rssMb.toFixed(1) : null,
    answer,
  };
  figures.push(f);
  const rss = f.peak_rss_mb === null ? '' : `  peak RSS ${f.peak_rss_mb} MB`;
  console.log(
    `${group.padEnd(12)} ${name.padEnd(26)} ${String(f.mb_per_second).padStart(8)} MB/s` +
      `  ${String(f.seconds).padStart(7)} s  (${f.mb_per_cpu_second} MB per CPU s)${rss}` +
      `  answer ${answer}`,
  );
  return f;
}

function ratio(group, a, b, target) {
  const fa = figures.find((f) => f.group === group && f.name === a);
  const fb = figures.find((f) => f.group === group && f.name === b);
  if (!fa || !fb) return undefined;
  const x = +(fb.seconds / fa.seconds).toFixed(2);
  const cpu =
    fa.cpu_seconds && fb.cpu_seconds ? +(fb.cpu_seconds / fa.cpu_seconds).toFixed(2) : null;
  const agree = String(fa.answer) === String(fb.answer) ? '' : '  (ANSWERS DIFFER)';
  const t = target ? ` (target ${target})` : '';
  console.log(`${group.padEnd(12)} ${a} vs ${b}: ${x}× the speed, ${cpu}× by CPU time${t}${agree}`);
  return {
    group,
    sluice: a,
    peer: b,
    speedup: x,
    cpu_speedup: cpu,
    target: target ?? null,
    answers_agree: !agree,
  };
}

const firstNumber = (s) => Number((/\d+/.exec(s) ?? ['NaN'])[0]);
const lineCount = (s) => s.split('\n').filter(Boolean).length;

async function main() {
  const access = join(dataDir, `access-${SCALE}.log`);
  const ndjson = join(dataDir, `app-${SCALE}.ndjson`);
  console.log(
    `scale ${SCALE}: access log ${ACCESS_BYTES / 1e6} MB, NDJSON ${NDJSON_BYTES / 1e6} MB`,
  );
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  console.log(`load average at start: ${loadAtStart.join(' ')}`);
  await generate(access, ACCESS_BYTES, accessLine, 7);
  await generate(ndjson, NDJSON_BYTES, ndjsonLine, 11);
  const aBytes = statSync(access).size;
  const nBytes = statSync(ndjson).size;
  const ratios = [];
  const sluice = (args, opts) => measure(process.execPath, [CLI, 'query', ...args], opts);
  // Both inputs read once before any tool: the first tool must not pay for the disk alone.
  for (const file of [access, ndjson]) measure('cat', [file], { discard: true });

  // 1. Literal search, counting matches: these runs last under a second, where one slow spell
  // decides, so each tool runs three times in turns and its fastest run counts.
  const runs = { sluice: [], grep: [], rg: [] };
  for (let i = 0; i < 3; i++) {
    runs.sluice.push(sluice([access, '--grep', LITERAL, '--count']));
    runs.grep.push(measure('grep', ['-c', '-F', LITERAL, access]));
    if (have('rg')) runs.rg.push(measure('rg', ['-c', '-F', LITERAL, access]));
  }
  const fastest = (list) => list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  let m = fastest(runs.sluice);
  report('literal', 'sluice --grep --count', aBytes, m, firstNumber(m.stdout));
  m = fastest(runs.grep);
  report('literal', 'grep -c', aBytes, m, firstNumber(m.stdout));
  if (runs.rg.length > 0) {
    m = fastest(runs.rg);
    report('literal', 'rg -c', aBytes, m, firstNumber(m.stdout));
  }
  ratios.push(ratio('literal', 'sluice --grep --count', 'grep -c', '≥ 1'));
  ratios.push(ratio('literal', 'sluice --grep --count', 'rg -c', '≥ 0.25'));

  // 2. Status filter.
  m = sluice([access, '--where', 'http.status >= 500', '--count']);
  report('status', 'sluice --where --count', aBytes, m, firstNumber(m.stdout));
  m = measure('mawk', ['$9 >= 500 { n++ } END { print n }', access]);
  report('status', 'mawk', aBytes, m, firstNumber(m.stdout));
  if (have('lnav')) {
    const sql = ';SELECT count(*) FROM access_log WHERE sc_status >= 500';
    m = measure('lnav', ['-n', '-c', sql, access]);
    report(
      'status',
      'lnav SQL count',
      aBytes,
      m,
      firstNumber(m.stdout.split('\n').pop() || m.stdout.replace(/count\(\*\)/, '')),
    );
  }
  ratios.push(ratio('status', 'sluice --where --count', 'mawk'));
  ratios.push(ratio('status', 'sluice --where --count', 'lnav SQL count'));

  // 3. --level error on NDJSON, printing the records (jq prints them too).
  m = sluice([ndjson, '--level', 'error', '-o', 'json']);
  report('level', 'sluice --level error -o json', nBytes, m, lineCount(m.stdout));
  m = measure('jq', ['-c', 'select(.level=="error")', ndjson]);
  report('level', 'jq select', nBytes, m, lineCount(m.stdout));
  ratios.push(ratio('level', 'sluice --level error -o json', 'jq select', '≥ 5'));

  // 4. Statistics: counts per level and the top paths.
  m = sluice([access, '--stats', '--top', 'http.path', '-o', 'json']);
  const doc = m.status === 0 ? JSON.parse(m.stdout) : { top: { 'http.path': { values: [] } } };
  report('stats', 'sluice --stats --top', aBytes, m, doc.top['http.path'].values[0]?.count);
  if (have('lnav')) {
    const sql =
      ';SELECT cs_uri_stem, count(*) AS n FROM access_log GROUP BY cs_uri_stem ORDER BY n DESC LIMIT 10';
    m = measure('lnav', ['-n', '-c', sql, access]);
    const top = /(\d[\d,]*)\s*$/m.exec(m.stdout.split('\n').filter(Boolean)[1] ?? '');
    report('stats', 'lnav SQL GROUP BY', aBytes, m, top ? Number(top[1].replace(/,/g, '')) : 'n/a');
  }
  ratios.push(ratio('stats', 'sluice --stats --top', 'lnav SQL GROUP BY', '≥ 3'));

  // 5. A 1% time window: from a store of the same records, and from the flat file.
  const store = join(dataDir, `store-${SCALE}`);
  if (!existsSync(store)) await fillStore(ndjson, store);
  const span = await timeSpan(ndjson);
  const from = new Date(span.first + (span.last - span.first) * 0.5).toISOString();
  const to = new Date(span.first + (span.last - span.first) * 0.51).toISOString();
  const window = ['--since', from, '--until', to, '--count'];
  m = sluice(['--store', store, ...window]);
  report('window', 'sluice --store', nBytes, m, firstNumber(m.stdout));
  m = sluice([ndjson, ...window]);
  report('window', 'sluice flat file', nBytes, m, firstNumber(m.stdout));
  ratios.push(ratio('window', 'sluice --store', 'sluice flat file'));

  const maxRss = Math.max(
    ...figures.filter((f) => f.name.startsWith('sluice')).map((f) => f.peak_rss_mb ?? 0),
  );
  console.log(`peak RSS of sluice across all cases: ${maxRss} MB (target < 150 MB)`);
  const loadAtEnd = loadavg().map((x) => +x.toFixed(2));
  console.log(`load average at end: ${loadAtEnd.join(' ')}`);
  mkdirSync(join(here, 'results'), { recursive: true });
  await writeFile(
    join(here, 'results', 'query.json'),
    JSON.stringify(
      {
        scale: SCALE,
        access_bytes: aBytes,
        ndjson_bytes: nBytes,
        figures,
        ratios: ratios.filter(Boolean),
        sluice_peak_rss_mb: maxRss,
        load_average: { start: loadAtStart, end: loadAtEnd },
      },
      null,
      2,
    ) + '\n',
  );
}

/** First and last record time of the NDJSON file (records are in time order). */
async function timeSpan(path) {
  const head = spawnSync('head', ['-n', '1', path]).stdout.toString();
  const tail = spawnSync('tail', ['-n', '1', path]).stdout.toString();
  return { first: Date.parse(JSON.parse(head).time), last: Date.parse(JSON.parse(tail).time) };
}

/** Parses the NDJSON file with sluice's own parser and writes the records to a store. */
async function fillStore(ndjson, store) {
  rmSync(store, { recursive: true, force: true });
  const url = (p) => pathToFileURL(join(BUILD, p)).href;
  const { openStoreWriter } = await import(url('store/index.js'));
  const { createLineParser } = await import(url('parse/line-parser.js'));
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  const writer = await openStoreWriter(store, { fsync: 'never' });
  const parser = createLineParser({ now: Date.now() });
  let batch = [];
  for await (const line of createInterface({ input: createReadStream(ndjson) })) {
    parser.push(line, batch);
    if (batch.length >= 2000) {
      await writer.append(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await writer.append(batch);
  await writer.close();
}

await main();
