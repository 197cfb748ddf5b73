// Store benchmark: append throughput of parsed access-log records under each fsync policy
// (against writing the same NDJSON to a plain file), gzip compression ratio and speed of
// closed segments (against the gzip command), and `sluice store cat` of a 1% time window in
// a store of at least 1 GB on disk (against reading all of it).
// Env: SLUICE_CLI (default dist/src/cli/main.js), BENCH_SCALE (default 1).

import { spawnSync, execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  rmSync,
  writeFileSync,
  mkdirSync,
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CLI = resolve(process.env.SLUICE_CLI ?? 'dist/src/cli/main.js');
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const lib = await import(pathToFileURL(join(dirname(dirname(CLI)), 'index.js')).href);
const { openStoreWriter, createLineParser, encodeRecord, listSegments } = lib;

const APPEND_RECORDS = Math.max(10_000, Math.round(1_000_000 * SCALE));
const BIG_STORE_BYTES = Math.max(20e6, 1.05e9 * SCALE);
const BATCH = 5000;
const work = mkdtempSync(join(tmpdir(), 'sluice-bench-store-'));
const results = { scale: SCALE, records: APPEND_RECORDS, append: {}, compression: {}, window: {} };

function accessLines(n) {
  const paths = ['/', '/index.html', '/api/v1/items', '/login', '/static/app.js', '/img/logo.png'];
  const agents = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'curl/8.5.0', 'Googlebot/2.1'];
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = new Date(Date.UTC(2026, 2, 1) + i * 100);
    const d = t.toUTCString().split(' ');
    const stamp = `${d[1]}/${d[2]}/${d[3]}:${d[4]} +0000`;
    const status = i % 50 === 0 ? 500 : i % 17 === 0 ? 404 : 200;
    out.push(
      `10.0.${(i >> 8) & 255}.${i & 255} - - [${stamp}] "GET ${paths[i % 6]}?id=${i} HTTP/1.1" ` +
        `${status} ${1000 + (i % 5000)} "https://example.com/" "${agents[i % 3]}"`,
    );
  }
  return out;
}

// Parse a pool of distinct records once; the runs cycle through it with fresh timestamps.
const POOL = Math.min(APPEND_RECORDS, 100_000);
const parser = createLineParser({ format: 'apache_combined' });
const pool = [];
for (const line of accessLines(POOL)) parser.push(line, pool);
parser.flush(pool);

function batchAt(start, n, stepMs) {
  const out = new Array(n);
  const t0 = Date.UTC(2026, 2, 1);
  for (let i = 0; i < n; i++) {
    const r = pool[(start + i) % pool.length];
    out[i] = { ...r, timestamp: new Date(t0 + (start + i) * stepMs).toISOString() };
  }
  return out;
}

const batches = [];
for (let i = 0; i < APPEND_RECORDS; i += BATCH)
  batches.push(batchAt(i, Math.min(BATCH, APPEND_RECORDS - i), 100));

// Appends every batch with up to IN_FLIGHT unacknowledged (as a collector pipelines acks) and
// stops the clock when all are durable. flush() syncs the tail at once, so a short run does
// not end with an idle wait for the next interval tick; CPU time of this process is reported
// beside wall time because the shared machine's load makes wall time noisy.
const IN_FLIGHT = 16;
async function appendRun(fsync) {
  const dir = join(work, `append-${fsync}`);
  const w = await openStoreWriter(dir, { fsync, compression: 'none' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inFlight = [];
  for (const b of batches) {
    inFlight.push(w.append(b));
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
  }
  await w.flush();
  await Promise.all(inFlight);
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const bytes = w.stats().appendedBytes;
  await w.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    recordsPerSec: Math.round(APPEND_RECORDS / secs),
    mbPerSec: +(bytes / secs / 1e6).toFixed(1),
    seconds: +secs.toFixed(2),
    cpuSeconds: +cpuSecs.toFixed(2),
    recordsPerCpuSec: Math.round(APPEND_RECORDS / cpuSecs),
  };
}

function plainFileRun() {
  const path = join(work, 'plain.ndjson');
  const fd = openSync(path, 'w');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  for (const b of batches) {
    let text = '';
    for (const r of b) text += encodeRecord(r) + '\n';
    bytes += writeSync(fd, text);
  }
  fsyncSync(fd);
  closeSync(fd);
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    path,
    recordsPerSec: Math.round(APPEND_RECORDS / secs),
    mbPerSec: +(bytes / secs / 1e6).toFixed(1),
    recordsPerCpuSec: Math.round(APPEND_RECORDS / ((cpu.user + cpu.system) / 1e6)),
  };
}

const load = loadavg().map((x) => x.toFixed(1));
results.loadAverage = load;
results.cpus = cpus().length;
console.log(
  `store bench: ${APPEND_RECORDS} parsed access-log records, scale ${SCALE}, ` +
    `load average ${load.join(' ')} on ${cpus().length} CPUs`,
);
const plain = plainFileRun();
console.log(
  `  peer: NDJSON to one plain file (encode + write + fsync): ${plain.recordsPerSec} rec/s, ` +
    `${plain.mbPerSec} MB/s, ${plain.recordsPerCpuSec} rec per CPU-s`,
);
results.append.plainFile = plain;
for (const fsync of ['never', 'interval', 'always']) {
  const r = await appendRun(fsync);
  results.append[fsync] = {
    ...r,
    vsPlainFile: +(r.recordsPerSec / plain.recordsPerSec).toFixed(2),
  };
  console.log(
    `  append --fsync ${fsync}: ${r.recordsPerSec} rec/s, ${r.mbPerSec} MB/s, ` +
      `${r.recordsPerCpuSec} rec per CPU-s (${results.append[fsync].vsPlainFile}x plain file)`,
  );
}

// Compression: one 64 MiB segment compressed by the store's worker path (its default level,
// 1), against gzip -1.
{
  const dir = join(work, 'compress');
  const w = await openStoreWriter(dir, { fsync: 'never', compression: 'gzip' });
  // The worker's own time per segment (read, gzip, write, fsync, index): its MB/s.
  let workerMs = 0;
  let workerRaw = 0;
  w.on('compressed', (r) => {
    workerMs += r.millis;
    workerRaw += r.rawBytes;
  });
  for (const b of batches) await w.append(b);
  const t0 = performance.now();
  await w.close(); // closes the last segment and waits for the worker to compress everything
  const segs = await listSegments(dir);
  const raw = segs.reduce((n, s) => n + s.index.rawBytes, 0);
  const stored = segs.reduce((n, s) => n + s.sizeBytes, 0);
  const secs = (performance.now() - t0) / 1000;
  let gzipPeer;
  try {
    const g0 = performance.now();
    const out = execFileSync('gzip', ['-1', '-c', plain.path], { maxBuffer: 1 << 30 });
    const gsecs = (performance.now() - g0) / 1000;
    gzipPeer = { ratio: +(raw / out.length).toFixed(2), mbPerSec: +(raw / gsecs / 1e6).toFixed(1) };
  } catch {
    gzipPeer = undefined;
  }
  results.compression = {
    ratio: +(raw / stored).toFixed(2),
    mbPerSecAtClose: +(raw / secs / 1e6).toFixed(1),
    workerMbPerSec: +(workerRaw / (workerMs / 1000) / 1e6).toFixed(1),
    gzipPeer,
  };
  console.log(
    `  compression: ratio ${results.compression.ratio}, worker ${results.compression.workerMbPerSec} MB/s ` +
      `(at close, after the appends: ${results.compression.mbPerSecAtClose} MB/s)` +
      (gzipPeer ? `; peer gzip -1: ratio ${gzipPeer.ratio}, ${gzipPeer.mbPerSec} MB/s` : ''),
  );
  rmSync(dir, { recursive: true, force: true });
}
rmSync(plain.path, { force: true });
// The appended batches are not needed any more: dropping them keeps this process's heap small,
// so the in-process read timings below are not slowed by collections of a large heap.
batches.length = 0;

// Window read: a store of >= 1 GB on disk (uncompressed), 1% of its time range vs all of it.
{
  const dir = join(work, 'big');
  const w = await openStoreWriter(dir, { fsync: 'never', compression: 'none' });
  let n = 0;
  while (w.stats().bytes < BIG_STORE_BYTES) {
    await w.append(batchAt(n, BATCH, 100));
    n += BATCH;
  }
  await w.close();
  const onDisk = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  const t0 = Date.UTC(2026, 2, 1);
  const span = n * 100;
  const since = new Date(t0 + span * 0.5).toISOString();
  const until = new Date(t0 + span * 0.51).toISOString();
  // Wall seconds and CPU seconds (user + system) of one `sluice` run. The CPU time is the
  // growth of this process's children's times in /proc/self/stat (Linux; clock ticks, 10 ms
  // at the usual 100 per second; null elsewhere): spawnSync has reaped the child by then.
  const ticksPerSec = (() => {
    try {
      return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
    } catch {
      return 100;
    }
  })();
  const childCpu = () => {
    try {
      const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
      return (Number(f[13]) + Number(f[14])) / ticksPerSec;
    } catch {
      return null;
    }
  };
  const timeCli = (args) => {
    const c = childCpu();
    const s = performance.now();
    const r = spawnSync(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`sluice ${args.join(' ')} exited ${r.status}`);
    const wall = (performance.now() - s) / 1000;
    const c1 = childCpu();
    return { wall, cpu: c === null || c1 === null ? null : c1 - c };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  // Library reads run in a fresh process: this one holds the record pool, and collections of
  // its large heap (triggered by the reader's chunk buffers) would be timed with the reads.
  const readerScript = `
    const lib = await import(process.argv[1]);
    const opts = JSON.parse(process.argv[2]);
    const s = performance.now();
    let bytes = 0;
    for await (const chunk of lib.openStoreReader(process.argv[3], opts).raw()) {
      bytes += chunk.length;
    }
    console.log(JSON.stringify([(performance.now() - s) / 1000, bytes]));`;
  const libUrl = pathToFileURL(join(dirname(dirname(CLI)), 'index.js')).href;
  const timeReader = async (opts) => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', readerScript, libUrl, JSON.stringify(opts), dir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`reader process exited ${r.status}`);
    return JSON.parse(r.stdout);
  };
  const windowOpts = { since: Date.parse(since), until: Date.parse(until) };
  const libWindowRuns = async () => {
    const runs = [];
    let bytes = 0;
    for (let i = 0; i < 3; i++) {
      const [secs, b] = await timeReader(windowOpts);
      runs.push(secs);
      bytes = b;
    }
    return [median(runs), bytes];
  };
  // One untimed read first: the store was just written, and the kernel may still be writing
  // it back; every timed read then finds it in the page cache alike.
  await timeReader({ order: 'storage' });
  const [libFull, fullBytes] = await timeReader({});
  const [libFullStorage] = await timeReader({ order: 'storage' });
  const [libWindow, windowBytes] = await libWindowRuns();
  results.window.library = {
    fullReadSeconds: +libFull.toFixed(2),
    fullReadStorageOrderSeconds: +libFullStorage.toFixed(2),
    fullBytes,
    windowReadSeconds: +libWindow.toFixed(4),
    windowBytes,
    speedup: +(libFull / libWindow).toFixed(1),
  };
  console.log(
    `  reader (library, own process, time order): full ${libFull.toFixed(2)} s ` +
      `(storage order ${libFullStorage.toFixed(2)} s), 1% window ${libWindow.toFixed(4)} s ` +
      `(${results.window.library.speedup}x faster)`,
  );
  // The CLI's fixed cost (start-up, listing, reading the indexes) is measured on its own: a
  // window before the store's first record, which reads no segment. Full read, window and
  // empty window run in turns, three times each, so a change of the machine's load falls on
  // all three alike; each figure is the median of its three runs.
  const empty = ['--since', '2000-01-01T00:00:00Z', '--until', '2000-01-01T00:00:01Z'];
  const runs = { full: [], window: [], startup: [] };
  for (let i = 0; i < 3; i++) {
    runs.full.push(timeCli(['store', 'cat', '--dir', dir]));
    runs.window.push(timeCli(['store', 'cat', '--dir', dir, '--since', since, '--until', until]));
    runs.startup.push(timeCli(['store', 'cat', '--dir', dir, ...empty]));
  }
  const wallOf = (k) => median(runs[k].map((r) => r.wall));
  const cpuOf = (k) => (runs[k][0].cpu === null ? null : median(runs[k].map((r) => r.cpu)));
  const full = wallOf('full');
  const window = wallOf('window');
  const startup = wallOf('startup');
  const [fullCpu, windowCpu, startupCpu] = ['full', 'window', 'startup'].map(cpuOf);
  results.window = {
    ...results.window,
    storeBytes: onDisk,
    records: n,
    cliStartupSeconds: +startup.toFixed(3),
    fullReadSeconds: +full.toFixed(2),
    windowReadSeconds: +window.toFixed(3),
    speedup: +(full / window).toFixed(1),
    // Under a fluctuating load the window can take less than the separately timed fixed
    // cost; then the net ratio is not measurable and is left out (null).
    speedupNetOfStartup:
      window - startup > 0.01 ? +((full - startup) / (window - startup)).toFixed(1) : null,
    cpu:
      fullCpu === null
        ? null
        : {
            fullReadSeconds: +fullCpu.toFixed(2),
            windowReadSeconds: +windowCpu.toFixed(3),
            startupSeconds: +startupCpu.toFixed(3),
            speedup: windowCpu > 0 ? +(fullCpu / windowCpu).toFixed(1) : null,
          },
  };
  console.log(
    `  sluice store cat: store of ${(onDisk / 1e9).toFixed(2)} GB (${n} records): ` +
      `full ${full.toFixed(2)} s, 1% window ${window.toFixed(3)} s ` +
      `(${results.window.speedup}x faster; CLI start-up and listing ${startup.toFixed(3)} s, ` +
      (results.window.speedupNetOfStartup === null
        ? 'net ratio not measurable: the window took no longer than that)'
        : `${results.window.speedupNetOfStartup}x net of it)`),
  );
  if (results.window.cpu) {
    const c = results.window.cpu;
    console.log(
      `  sluice store cat, CPU time: full ${c.fullReadSeconds} s, 1% window ` +
        `${c.windowReadSeconds} s (${c.speedup}x less), empty window ${c.startupSeconds} s`,
    );
  }
  // The same store compressed (a writer opened with gzip compresses every closed segment):
  // a window enters each .sgz at the gzip block its sparse entry points to.
  const c0 = performance.now();
  const wz = await openStoreWriter(dir, { fsync: 'never', compression: 'gzip' });
  await wz.close();
  const compressSecs = (performance.now() - c0) / 1000;
  const zBytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  await timeReader({ order: 'storage' });
  const [zFull] = await timeReader({});
  const [zWindow] = await libWindowRuns();
  results.window.compressed = {
    storeBytes: zBytes,
    compressSeconds: +compressSecs.toFixed(1),
    fullReadSeconds: +zFull.toFixed(2),
    windowReadSeconds: +zWindow.toFixed(4),
    speedup: +(zFull / zWindow).toFixed(1),
  };
  console.log(
    `  compressed (${(zBytes / 1e6).toFixed(0)} MB, library): full ${zFull.toFixed(2)} s, ` +
      `1% window ${zWindow.toFixed(4)} s (${results.window.compressed.speedup}x faster)`,
  );
  rmSync(dir, { recursive: true, force: true });
}

results.peakRssBytes = process.resourceUsage().maxRSS * 1024;
console.log(`  peak RSS ${(results.peakRssBytes / 1048576).toFixed(0)} MiB`);
mkdirSync(join(dirname(new URL(import.meta.url).pathname), 'results'), { recursive: true });
writeFileSync(
  join(dirname(new URL(import.meta.url).pathname), 'results', 'store.json'),
  JSON.stringify(results, null, 2) + '\n',
);
rmSync(work, { recursive: true, force: true });
