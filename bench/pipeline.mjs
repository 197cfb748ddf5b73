// Benchmark of the demo topology end to end: a collector (TLS 1.3, store), three generators
// writing rotating files, and a shipper (redaction, auto compression, spool), as separate
// processes on loopback, like `sluice demo`.
//
// Phase 1, throughput: the three generators first write a backlog unthrottled (their rate is
// the peer: how fast input can be made); then the shipper and the collector move all of it,
// and the records stored per second end to end are measured, with each process's CPU seconds
// and peak RSS from /proc. Generating while shipping would measure disk contention between
// them (fsync latency under unthrottled writers), not the pipeline.
// Phase 2, latency: the generators write at a steady rate with wall-clock timestamps, and a
// store reader in follow mode measures, for each record, the time from its timestamp to the
// moment it could be read back (median, p99).
//
// Env: SLUICE_CLI (default dist/src/cli/main.js), BENCH_SCALE (fraction of the 60 s and 20 s
// phases, default 1). Writes bench/results/pipeline.json.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = resolve(root, process.env.SLUICE_CLI ?? 'dist/src/cli/main.js');
const lib = dirname(dirname(cli));
const load = (p) => import(pathToFileURL(join(lib, p)).href);
const { DemoProcess, logFields } = await load('pipeline/demo/process.js');
const { scrape, total } = await load('pipeline/demo/scrape.js');
const { initCerts, CERT_FILES } = await load('net/certs.js');
const { openStoreReader } = await load('store/index.js');

const scale = Number(process.env.BENCH_SCALE ?? 1);
const throughputSeconds = Math.max(10, Math.round(60 * scale));
const latencySeconds = Math.max(8, Math.round(20 * scale));
const scenarios = [
  ['web', 'apache_combined'],
  ['incident', 'json'],
  ['healthcare', 'syslog_rfc5424'],
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function port(p, want) {
  const line = await p.waitFor((l) => {
    const f = logFields(l);
    if (!f || typeof f.msg !== 'string' || !/listening/i.test(f.msg)) return false;
    return want === 'tls' ? f.transport === 'tls' : f.transport !== 'tls' && f.transport !== 'tcp';
  }, 60_000);
  return Number(logFields(line).port);
}

async function topology(dir, rate, withGenerators = true) {
  const certs = join(dir, 'certs');
  const c = (f) => join(certs, f);
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  await initCerts({ dir: certs, hosts: ['localhost', '127.0.0.1'], days: 2 });
  const serve = new DemoProcess(
    'serve',
    [
      'serve',
      '--tls',
      '127.0.0.1:0',
      '--cert',
      c(CERT_FILES.serverCert),
      '--key',
      c(CERT_FILES.serverKey),
      '--ca',
      c(CERT_FILES.caCert),
      '--require-client-cert',
      '--store',
      join(dir, 'store'),
      '--metrics',
      '127.0.0.1:0',
      '--summary-interval',
      '0',
    ],
    join(dir, 'serve.log'),
  );
  const tlsPort = await port(serve, 'tls');
  const servePort = await port(serve, 'http');
  const gens = (withGenerators ? scenarios : []).map(
    ([name, format]) =>
      new DemoProcess(
        `generate ${name}`,
        [
          'generate',
          '--scenario',
          name,
          '--format',
          format,
          '--rate',
          String(rate),
          '--out',
          join(logs, `${name}.log`),
          '--rotate-size',
          '64MB',
          '--rotate-keep',
          '4',
        ],
        join(dir, `generate-${name}.log`),
      ),
  );
  const ship = new DemoProcess(
    'ship',
    [
      'ship',
      join(logs, '*.log'),
      '--to',
      `tls://127.0.0.1:${tlsPort}`,
      '--ca',
      c(CERT_FILES.caCert),
      '--cert',
      c(CERT_FILES.clientCert),
      '--key',
      c(CERT_FILES.clientKey),
      '--redact',
      'hipaa',
      '--compress',
      'auto',
      '--spool',
      join(dir, 'spool'),
      '--start-at',
      'beginning',
      '--health',
      '127.0.0.1:0',
      '--status-interval',
      '0',
      '--no-progress',
    ],
    join(dir, 'ship.log'),
  );
  const shipPort = await port(ship, 'http');
  return { serve, gens, ship, servePort, shipPort, all: [serve, ...gens, ship] };
}

/** Writes the backlog the throughput phase ships: `lines` per scenario, as fast as possible. */
async function pregenerate(logs, lines) {
  mkdirSync(logs, { recursive: true });
  const started = Date.now();
  await Promise.all(
    scenarios.map(([name, format]) => {
      const p = new DemoProcess(
        `generate ${name}`,
        [
          'generate',
          '--scenario',
          name,
          '--format',
          format,
          '--rate',
          '0',
          '--count',
          String(lines),
          '--out',
          join(logs, `${name}.log`),
          // One file per scenario: the shipper follows `*.log`, so a backlog rotated into
          // `*.log.1` would never be shipped (at BENCH_SCALE=1 the files pass 64 MB).
          '--rotate-size',
          '4GB',
        ],
        join(logs, `..`, `generate-${name}.log`),
      );
      return p.exited;
    }),
  );
  return (3 * lines) / ((Date.now() - started) / 1000);
}

async function throughput() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-pipeline-'));
  const perScenario = Math.round(400_000 * scale);
  const generatedPerSec = await pregenerate(join(dir, 'logs'), perScenario);
  // The generators have finished: the collector and the shipper get the machine to themselves
  // and a backlog larger than they can take at once, which is what "unthrottled" measures.
  const t = await topology(dir, 0, false);
  try {
    const started = Date.now();
    const deadline = started + throughputSeconds * 1000 * 5;
    let stored = 0;
    while (stored < 3 * perScenario && Date.now() < deadline) {
      await sleep(200);
      stored = total(await scrape(t.servePort), 'sluice_serve_stored_records_total');
    }
    const secs = (Date.now() - started) / 1000;
    const sh = await scrape(t.shipPort);
    const processes = t.all.map((p) => ({
      name: p.name,
      cpuSeconds: +cpuSeconds(p.child.pid).toFixed(2),
      cpuPercent: +((100 * cpuSeconds(p.child.pid)) / secs).toFixed(1),
      peakRssMiB: +peakRssMiB(p.child.pid).toFixed(1),
    }));
    const cpu = processes.reduce((a, p) => a + p.cpuSeconds, 0);
    return {
      records: stored,
      seconds: +secs.toFixed(1),
      storedPerSec: Math.round(stored / secs),
      storedPerCpuSecond: Math.round(stored / cpu),
      generatedPerSec: Math.round(generatedPerSec),
      compressionRatio: +total(sh, 'sluice_ship_compression_ratio').toFixed(2),
      processes,
    };
  } finally {
    await Promise.all(t.all.map((p) => p.stop(10_000)));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function latency() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-pipeline-'));
  const t = await topology(dir, 500);
  const samples = [];
  const reader = openStoreReader(join(dir, 'store'), { follow: true, pollIntervalMs: 50 });
  try {
    const stopAt = Date.now() + latencySeconds * 1000;
    for await (const batch of reader) {
      const now = Date.now();
      for (const r of batch) {
        const ts = Date.parse(r.timestamp);
        if (r.source?.includes('/logs/') && Number.isFinite(ts)) samples.push(now - ts);
      }
      if (now > stopAt) break;
    }
  } finally {
    await reader.close?.();
    await Promise.all(t.all.map((p) => p.stop(10_000)));
    rmSync(dir, { recursive: true, force: true });
  }
  samples.sort((a, b) => a - b);
  const pct = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { records: samples.length, medianMs: pct(0.5), p99Ms: pct(0.99), ratePerSec: 1500 };
}

const result = { scale, loadavgBefore: loadavg()[0] };
result.throughput = await throughput();
console.log(
  `pipeline: ${result.throughput.storedPerSec} records/s stored end to end ` +
    `(TLS, auto compression, redaction) vs ${result.throughput.generatedPerSec} lines/s ` +
    `written by the generators: ratio ` +
    `${(result.throughput.storedPerSec / result.throughput.generatedPerSec).toFixed(2)}`,
);
for (const p of result.throughput.processes) {
  console.log(`  ${p.name.padEnd(20)} CPU ${p.cpuPercent}%  peak RSS ${p.peakRssMiB} MiB`);
}
result.latency = await latency();
console.log(
  `pipeline latency write -> queryable at 1,500 lines/s: median ${result.latency.medianMs} ms, ` +
    `p99 ${result.latency.p99Ms} ms over ${result.latency.records} records`,
);
result.loadavgAfter = loadavg()[0];
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'pipeline.json'), JSON.stringify(result, null, 2));
