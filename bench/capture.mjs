// Benchmark of `sluice capture`: throughput while a writer appends a combined access log as
// fast as it can (1,000,000 lines × BENCH_SCALE; to batch files, stdout and the store, with
// the CPU seconds it took and the load average), and end-to-end latency from write to batch
// file at a steady 1,000 lines/s. The peer, measured in the same run on the same file, is
// coreutils `tail -F` (follows and copies bytes, no parsing, no checkpoint, no fsync).
// Prints lines/s, MB/s, CPU%, p50/p99 latency, peak RSS and ratios; writes
// bench/results/capture.json.

import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(process.env.SLUICE_CLI ?? join(here, '..', 'dist', 'src', 'cli', 'main.js'));
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const LINES = Math.max(10_000, Math.round(1_000_000 * SCALE));
const LATENCY_SECONDS = Math.max(5, Math.round(20 * SCALE));
const work = join(tmpdir(), 'sluice-bench-capture');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function accessLines(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const status = [200, 200, 200, 304, 404, 500][i % 6];
    out.push(
      `${ip} - - [01/May/2024:10:${String(((i / 60000) % 60) | 0).padStart(2, '0')}:` +
        `${String(((i / 1000) % 60) | 0).padStart(2, '0')} +0000] "GET /api/v1/items/${i} ` +
        `HTTP/1.1" ${status} ${(i * 37) % 5000} "-" "Mozilla/5.0 (X11; Linux x86_64)"\n`,
    );
  }
  return out;
}

/** CPU seconds (user + system) and peak RSS of a process, from /proc. */
function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(stat[11]) + Number(stat[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpuSeconds: ticks / 100, peakRssMb: hwm ? Number(hwm[1]) / 1024 : NaN };
  } catch {
    return { cpuSeconds: NaN, peakRssMb: NaN };
  }
}

function startCapture(args) {
  const child = spawn(process.execPath, [CLI, 'capture', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
  });
  const ready = new Promise((resolvePromise, reject) => {
    let err = '';
    child.stderr.on('data', (b) => {
      err += b.toString();
      if (err.includes('sluice capture: following')) resolvePromise();
    });
    child.on('exit', (code) => reject(new Error(`capture exited (${code}): ${err}`)));
  });
  return { child, ready };
}

function stop(child) {
  return new Promise((r) => {
    child.on('close', r);
    child.kill('SIGTERM');
  });
}

function checkpointOffset(stateDir) {
  try {
    const state = JSON.parse(readFileSync(join(stateDir, 'checkpoints.json'), 'utf8'));
    return state.files.reduce((n, f) => n + f.offset, 0);
  } catch {
    return 0;
  }
}

/** Appends the lines in 1 MiB pieces as fast as possible; resolves with the byte count. */
function appendFast(path, lines) {
  let chunk = '';
  let bytes = 0;
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= 1 << 20) {
      appendFileSync(path, chunk);
      bytes += Buffer.byteLength(chunk);
      chunk = '';
    }
  }
  appendFileSync(path, chunk);
  return bytes + Buffer.byteLength(chunk);
}

async function throughputSluice(lines, destination, label) {
  const dir = join(work, `throughput-${label}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  const state = join(dir, 'state');
  const { child, ready } = startCapture([
    '--path',
    log,
    '--start-at',
    'beginning',
    '--state',
    state,
    ...destination(dir),
  ]);
  await ready;
  const before = procStats(child.pid);
  const t0 = performance.now();
  const bytes = appendFast(log, lines);
  while (checkpointOffset(state) < bytes) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  const after = procStats(child.pid);
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  await stop(child);
  return {
    name: `sluice capture (auto parse, ${label}, checkpoints)`,
    load_average: Number(loadavg),
    cpu_seconds: round(after.cpuSeconds - before.cpuSeconds),
    lines_per_cpu_second: Math.round(lines.length / (after.cpuSeconds - before.cpuSeconds)),
    seconds: round(seconds),
    lines_per_second: Math.round(lines.length / seconds),
    mb_per_second: round(bytes / 1e6 / seconds),
    cpu_percent: round((100 * (after.cpuSeconds - before.cpuSeconds)) / seconds),
    peak_rss_mb: round(after.peakRssMb),
  };
}

async function throughputTail(lines) {
  const dir = join(work, 'tail');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  const child = spawn('tail', ['-c', '+1', '-F', log], { stdio: ['ignore', 'pipe', 'ignore'] });
  let got = 0;
  child.stdout.on('data', (b) => (got += b.length));
  await sleep(300);
  const t0 = performance.now();
  const bytes = appendFast(log, lines);
  while (got < bytes) await sleep(5);
  const seconds = (performance.now() - t0) / 1000;
  const stats = procStats(child.pid);
  child.kill('SIGTERM');
  return {
    name: 'tail -F (coreutils; bytes only)',
    seconds: round(seconds),
    lines_per_second: Math.round(lines.length / seconds),
    mb_per_second: round(bytes / 1e6 / seconds),
    cpu_percent: round((100 * stats.cpuSeconds) / seconds),
    peak_rss_mb: round(stats.peakRssMb),
  };
}

/** Writes 1,000 lines/s, each carrying its write time; returns the lines written. */
async function steadyWriter(path, seconds, prefix) {
  const total = seconds * 1000;
  const start = performance.now();
  let written = 0;
  while (written < total) {
    const due = Math.min(total, Math.floor(performance.now() - start));
    let chunk = '';
    for (; written < due; written++) {
      chunk += `${prefix} seq=${written} sent=${Date.now()} msg=steady\n`;
    }
    if (chunk) appendFileSync(path, chunk);
    await sleep(5);
  }
  return written;
}

function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50_ms: at(0.5), p99_ms: at(0.99), samples: sorted.length };
}

async function latencySluice() {
  const dir = join(work, 'latency');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'app.log');
  const out = join(dir, 'out');
  writeFileSync(log, '');
  const { child, ready } = startCapture(['--path', log, '--out', out, '--format', 'logfmt']);
  await ready;
  const latencies = [];
  const seen = new Set();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const names = existsSync(out) ? readdirSync(out) : [];
      const now = Date.now();
      for (const name of names) {
        if (seen.has(name) || name.startsWith('.')) continue;
        seen.add(name);
        for (const m of readFileSync(join(out, name), 'utf8').matchAll(/"sent":(\d+)/g)) {
          latencies.push(now - Number(m[1]));
        }
      }
      await sleep(10);
    }
  })();
  const written = await steadyWriter(log, LATENCY_SECONDS, 'level=info');
  const deadline = Date.now() + 5000;
  while (latencies.length < written && Date.now() < deadline) await sleep(50);
  polling = false;
  await poller;
  const stats = procStats(child.pid);
  await stop(child);
  return {
    name: 'sluice capture at 1,000 lines/s (default --batch-wait 1s)',
    ...percentiles(latencies),
    lines_written: written,
    peak_rss_mb: round(stats.peakRssMb),
  };
}

async function latencyTail() {
  const dir = join(work, 'latency-tail');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'app.log');
  writeFileSync(log, '');
  const child = spawn('tail', ['-F', log], { stdio: ['ignore', 'pipe', 'ignore'] });
  const latencies = [];
  let buffered = '';
  child.stdout.on('data', (b) => {
    const now = Date.now();
    buffered += b.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop();
    for (const l of lines) {
      const m = /sent=(\d+)/.exec(l);
      if (m) latencies.push(now - Number(m[1]));
    }
  });
  await sleep(300);
  await steadyWriter(log, Math.min(LATENCY_SECONDS, 5), 'level=info');
  await sleep(1500);
  child.kill('SIGTERM');
  return { name: 'tail -F at 1,000 lines/s', ...percentiles(latencies) };
}

const round = (n) => Math.round(n * 100) / 100;

async function main() {
  mkdirSync(work, { recursive: true });
  console.log(`capture bench: ${LINES} lines, latency run ${LATENCY_SECONDS}s, scale ${SCALE}`);
  const lines = accessLines(LINES);
  const sluice = await throughputSluice(lines, (d) => ['--out', join(d, 'out')], '--out DIR');
  console.log(sluice);
  const stdout = await throughputSluice(lines, () => ['--out', '-'], '--out -');
  console.log(stdout);
  const store = await throughputSluice(lines, (d) => ['--store', join(d, 'store')], '--store DIR');
  console.log(store);
  const tail = await throughputTail(lines);
  console.log(tail);
  const latency = await latencySluice();
  console.log(latency);
  const tailLatency = await latencyTail();
  console.log(tailLatency);
  const ratios = {
    throughput_vs_tail: round(sluice.lines_per_second / tail.lines_per_second),
    p99_latency_vs_tail: round(latency.p99_ms / Math.max(1, tailLatency.p99_ms)),
  };
  console.log('ratios', ratios);
  const result = {
    scale: SCALE,
    cli: CLI,
    lines: LINES,
    figures: {
      throughput: sluice,
      throughput_stdout: stdout,
      throughput_store: store,
      throughput_peer: tail,
      latency,
      latency_peer: tailLatency,
    },
    targets: { lines_per_second: 300_000, p99_latency_ms: 1500 },
    ratios,
  };
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'capture.json'), JSON.stringify(result, null, 2) + '\n');
  rmSync(work, { recursive: true, force: true });
}

await main();
