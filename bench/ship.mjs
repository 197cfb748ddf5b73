// Benchmark of `sluice ship`: records/s and MB/s end to end on loopback for each codec and
// level, the compression ratio on the corpus and on generated logs, CPU seconds per GB of
// compression, and what `auto` chose. The collector side is sluice's frame session with an
// in-memory store (no disk), in a worker thread, so the figures measure the shipper, the
// protocol and the link.
// The peer is Node's zlib compressing the same payloads with nothing around it (the ceiling).
// Env: SLUICE_CLI (default dist/src/cli/main.js), BENCH_SCALE (fraction, default 1).

import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = resolve(root, process.env.SLUICE_CLI ?? 'dist/src/cli/main.js');
const build = resolve(dirname(cli), '..', '..');
const scale = Number(process.env.BENCH_SCALE ?? 1);
const load = (p) => import(pathToFileURL(join(build, p)).href);

const { createShipper } = await load('src/sinks/ship.js');
const { makeBatch } = await load('src/record/batch.js');
const { parseLine } = await load('src/parse/line-parser.js');

const RECORDS = Math.max(10_000, Math.round(1_000_000 * scale));

function generated(n) {
  const out = [];
  const paths = ['/', '/index.html', '/api/v1/items', '/login', '/static/app.js', '/img/logo.png'];
  for (let i = 0; i < n; i++) {
    const status = i % 53 === 0 ? 500 : i % 17 === 0 ? 404 : 200;
    out.push({
      timestamp: new Date(1_772_352_000_000 + i * 7).toISOString(),
      level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
      severity: status >= 500 ? 17 : status >= 400 ? 13 : 9,
      message: `GET ${paths[i % paths.length]}?id=${i % 1000} HTTP/1.1`,
      host: `web-${i % 4}`,
      format: 'apache_combined',
      http: {
        client_ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
        method: 'GET',
        path: paths[i % paths.length],
        status,
        bytes: (i * 7919) % 50_000,
        user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0',
      },
    });
  }
  return out;
}

function corpus() {
  const dir = existsSync(join(root, '..', 'shared', 'corpus', 'loghub'))
    ? join(root, '..', 'shared', 'corpus', 'loghub')
    : undefined;
  if (!dir) return undefined;
  const records = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line) records.push(parseLine(line, { source: name }));
    }
  }
  return records;
}

// The collector runs in a worker thread: in a deployment it is another process on another
// core, and sharing the shipper's event loop would charge its decoding to the shipper.
const COLLECTOR_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
(async () => {
  const { runFrameSession } = await import(workerData.sessionUrl);
  let records = 0;
  const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
  const server = net.createServer((socket) => {
    void runFrameSession(socket, Buffer.alloc(0), {
      peer: 'bench',
      remoteAddress: '127.0.0.1',
      maxFrameBytes: 1 << 24,
      logger,
      append: async (r) => ((records += r.length), { stored: r.length, duplicate: false }),
      admit: async (r) => r,
      received() {},
      dropped() {},
      reject() {},
    });
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
  parentPort.on('message', (m) => {
    if (m === 'count') parentPort.postMessage({ count: records });
    else server.close(() => parentPort.close());
  });
})();
`;

async function collector() {
  const sessionUrl = pathToFileURL(join(build, 'src/net/frame-session.js')).href;
  const worker = new Worker(COLLECTOR_SOURCE, { eval: true, workerData: { sessionUrl } });
  const next = () => new Promise((r) => worker.once('message', r));
  const { port } = await next();
  return {
    port,
    count: async () => {
      const reply = next();
      worker.postMessage('count');
      return (await reply).count;
    },
    close: async () => {
      worker.postMessage('close');
      await new Promise((r) => worker.once('exit', r));
    },
  };
}

async function shipRun(records, compress, level) {
  const c = await collector();
  const shipper = createShipper({
    host: '127.0.0.1',
    port: c.port,
    compress,
    level,
    batchRecords: 2000,
    source: `${compress}-${level}`,
    autoPeriodMs: 250,
  });
  const choices = [];
  shipper.onCodecChange = (_from, to, reason) => choices.push(`${to.codec}-${to.level}: ${reason}`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += 2000) {
    await shipper.write(makeBatch(records.slice(i, i + 2000), 0));
  }
  await shipper.flush();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s = shipper.status();
  await shipper.close();
  const stored = await c.count();
  await c.close();
  if (stored !== records.length) throw new Error(`stored ${stored} of ${records.length}`);
  return {
    codec: compress,
    level,
    records_per_s: Math.round(records.length / seconds),
    raw_mb_per_s: Number((s.rawBytes / 1e6 / seconds).toFixed(1)),
    ratio: Number((s.rawBytes / s.wireBytes).toFixed(2)),
    cpu_s_per_gb: Number(((cpu.user + cpu.system) / 1e6 / (s.rawBytes / 1e9)).toFixed(1)),
    final_setting: `${s.codec}-${s.level}`,
    auto_changes: choices,
  };
}

function peer(records, level) {
  const payload = Buffer.from(records.map((r) => JSON.stringify(r)).join('\n'));
  const t0 = performance.now();
  const out = gzipSync(payload, { level });
  const seconds = (performance.now() - t0) / 1000;
  return {
    mb_per_s: Number((payload.length / 1e6 / seconds).toFixed(1)),
    ratio: Number((payload.length / out.length).toFixed(2)),
  };
}

const gen = generated(RECORDS);
const settings = [
  ['none', 0],
  ['gzip', 1],
  ['gzip', 6],
  ['gzip', 9],
  ['deflate', 1],
  ['deflate', 6],
  ['auto', 0],
];
const results = { scale, records: RECORDS, generated: [], corpus: [], peer: {} };
for (const [codec, level] of settings) {
  const r = await shipRun(gen, codec, level || 6);
  results.generated.push(r);
  console.log(
    `generated ${codec}${codec === 'none' || codec === 'auto' ? '' : `-${level}`}: ` +
      `${r.records_per_s} records/s, ${r.raw_mb_per_s} MB/s, ratio ${r.ratio}, ` +
      `${r.cpu_s_per_gb} CPU s/GB${codec === 'auto' ? `, ended at ${r.final_setting}` : ''}`,
  );
  for (const change of r.auto_changes) console.log(`  auto: ${change}`);
}
const corp = corpus();
if (corp) {
  for (const [codec, level] of [
    ['gzip', 1],
    ['gzip', 6],
    ['auto', 0],
  ]) {
    const r = await shipRun(corp, codec, level || 6);
    results.corpus.push(r);
    console.log(
      `corpus (${corp.length} records) ${codec}-${level}: ratio ${r.ratio}, ${r.records_per_s} records/s`,
    );
  }
} else console.log('corpus: ../shared/corpus/loghub missing; skipped');
for (const level of [1, 6]) {
  results.peer[`zlib_gzip_${level}`] = peer(gen.slice(0, 100_000), level);
  const best = results.generated.find((r) => r.codec === 'gzip' && r.level === level);
  console.log(
    `peer zlib gzip-${level} alone: ${results.peer[`zlib_gzip_${level}`].mb_per_s} MB/s, ` +
      `ratio ${results.peer[`zlib_gzip_${level}`].ratio}; ship end to end is ` +
      `${(best.raw_mb_per_s / results.peer[`zlib_gzip_${level}`].mb_per_s).toFixed(2)}x of it`,
  );
}
const fixed = results.generated.filter((r) => r.codec !== 'auto');
const auto = results.generated.find((r) => r.codec === 'auto');
const fastest = fixed.reduce((a, b) => (b.records_per_s > a.records_per_s ? b : a));
const smallest = fixed.reduce((a, b) => (b.ratio > a.ratio ? b : a));
const saved = (ratio) => 1 - 1 / ratio;
console.log(
  `auto: ${((auto.records_per_s / fastest.records_per_s) * 100).toFixed(0)}% of the fastest fixed ` +
    `(${fastest.codec}-${fastest.level}) throughput, saves ` +
    `${((saved(auto.ratio) / saved(smallest.ratio)) * 100).toFixed(0)}% of the bytes the best ratio ` +
    `(${smallest.codec}-${smallest.level}) saves`,
);
results.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(`peak RSS ${results.peak_rss_mb} MB`);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'ship.json'), JSON.stringify(results, null, 2) + '\n');
