// Benchmark of `sluice serve`: records/s parsed and stored with 1, 10 and 100 NDJSON clients on
// loopback; loggen (syslog-ng's load generator) sending 256-byte syslog messages to sluice
// and, in the same run, to syslog-ng itself writing a file; peak RSS with 1,000 idle
// connections. loggen and syslog-ng come from Debian's syslog-ng-core, which conflicts with
// rsyslog as an installed package, so it is downloaded and unpacked into bench/data/.
//
// Env: SLUICE_CLI (default dist/src/cli/main.js), BENCH_SCALE (fraction, default 1).
// Writes bench/results/serve.json.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = resolve(root, process.env.SLUICE_CLI ?? 'dist/src/cli/main.js');
const scale = Number(process.env.BENCH_SCALE ?? 1);
const results = { scale, ndjson: {}, ndjsonRecords: {}, loggen: {}, idle: {} };

function startServe(store, extraArgs = []) {
  const child = spawn(
    process.execPath,
    [
      cli,
      'serve',
      '--tcp',
      '127.0.0.1:0',
      '--store',
      store,
      '--metrics',
      '127.0.0.1:0',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SLUICE_LOG_LEVEL: 'info' } },
  );
  return new Promise((resolvePromise, reject) => {
    let buf = '';
    const ports = {};
    child.stderr.on('data', (b) => {
      if (ports.tcp && ports.http) return;
      buf += b.toString();
      for (const line of buf.split('\n')) {
        if (line.includes('"Listening."')) ports.tcp = JSON.parse(line).port;
        if (line.includes('"Metrics listening."')) ports.http = JSON.parse(line).port;
      }
      if (ports.tcp && ports.http) resolvePromise({ child, ...ports });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${buf}`)));
  });
}

async function metric(httpPort, name) {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : 0;
}

function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) a process has used so far: all its threads, or with `tid` one
 * of them (the main thread's id is the pid).
 */
function cpuSeconds(pid, tid) {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const stat = readFileSync(path, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

function perCpuSecond(records, cpu) {
  return cpu ? Math.round(records / cpu) : undefined;
}

function stop(child) {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

function batchText(client, from, count) {
  let s = '';
  for (let i = from; i < from + count; i++) {
    s +=
      `{"ts":"2026-03-01T08:15:02.120Z","level":"info","msg":"request handled",` +
      `"client":${client},"seq":${i},"path":"/api/v1/items","ms":12}\n`;
  }
  return s;
}

/** Lines that already are sluice records (as `sluice parse` prints them): stored as sent. */
function recordText(client, from, count) {
  let s = '';
  for (let i = from; i < from + count; i++) {
    s +=
      `{"timestamp":"2026-03-01T08:15:02.120Z","level":"info","severity":9,` +
      `"message":"request handled","format":"json",` +
      `"fields":{"client":${client},"seq":${i},"path":"/api/v1/items","ms":12}}\n`;
  }
  return s;
}

async function sendClient(port, client, total, text = batchText) {
  const s = connect({ host: '127.0.0.1', port });
  await new Promise((r) => s.once('connect', r));
  for (let from = 0; from < total; from += 1000) {
    if (!s.write(text(client, from, Math.min(1000, total - from)))) {
      await new Promise((r) => s.once('drain', r));
    }
  }
  await new Promise((r) => s.end(r));
}

async function benchNdjson(clients, kind = 'app') {
  const total = Math.max(10_000, Math.round(1_000_000 * scale));
  const perClient = Math.ceil(total / clients);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-serve-'));
  const { child, tcp, http } = await startServe(join(dir, 'store'));
  const cpu0 = cpuSeconds(child.pid);
  const t0 = process.hrtime.bigint();
  const text = kind === 'records' ? recordText : batchText;
  await Promise.all(Array.from({ length: clients }, (_, c) => sendClient(tcp, c, perClient, text)));
  const want = perClient * clients;
  while ((await metric(http, 'sluice_serve_stored_records_total')) < want) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = peakRss(child.pid);
  const cpu = cpuSeconds(child.pid) - cpu0;
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
  const perSec = Math.round(want / seconds);
  const perCpu = perCpuSecond(want, cpu);
  const entry = {
    records: want,
    seconds,
    recordsPerSec: perSec,
    cpuSeconds: cpu,
    recordsPerCpuSecond: perCpu,
    peakRssBytes: rss,
  };
  if (kind === 'records') results.ndjsonRecords[clients] = entry;
  else results.ndjson[clients] = entry;
  console.log(
    `ndjson${kind === 'records' ? ' (schema records)' : ''} ${clients} client(s): ` +
      `${want} records in ${seconds.toFixed(2)} s = ${perSec}/s, ${perCpu}/CPU-s, ` +
      `peak RSS ${mb(rss)}`,
  );
}

/**
 * Downloads syslog-ng-core and the libraries it and its afsocket plugin (network() sources)
 * need and that this machine lacks (libivykis0, libpcre3, libnet1, libwrap0), and unpacks
 * them; undefined on failure.
 */
function syslogNg() {
  const data = join(root, 'bench', 'data', 'syslog-ng');
  const x = join(data, 'x');
  const bin = join(x, 'usr', 'bin', 'loggen');
  if (!existsSync(bin) || !existsSync(join(x, 'usr/lib/x86_64-linux-gnu/libnet.so.1'))) {
    mkdirSync(data, { recursive: true });
    const debs = ['syslog-ng-core', 'libivykis0', 'libpcre3', 'libnet1', 'libwrap0'];
    const dl = spawnSync('apt-get', ['download', ...debs], {
      cwd: data,
      encoding: 'utf8',
    });
    if (dl.status !== 0) {
      console.log(`loggen: apt-get download failed: ${dl.stderr.trim().split('\n').pop()}`);
      return undefined;
    }
    for (const deb of readdirSync(data).filter((f) => f.endsWith('.deb'))) {
      spawnSync('dpkg', ['-x', join(data, deb), x]);
    }
  }
  const lib = ['usr/lib/syslog-ng', 'usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'];
  const env = {
    ...process.env,
    LD_LIBRARY_PATH: lib.map((l) => join(x, l)).join(':'),
    SYSLOGNG_PREFIX: join(x, 'usr'),
  };
  const ok = spawnSync(bin, ['--help'], { env }).status === 0;
  if (!ok) console.log('loggen: unpacked but does not run');
  return ok ? { loggen: bin, syslogng: join(x, 'usr', 'sbin', 'syslog-ng'), env, x } : undefined;
}

/** Runs loggen for `seconds` against 127.0.0.1:port; resolves with what it reports. */
function runLoggen(ng, port, seconds) {
  const args = ['--inet', '--stream', '-r', '10000000', '-s', '256', '-I', String(seconds)];
  const child = spawn(ng.loggen, [...args, '127.0.0.1', String(port)], {
    env: ng.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b) => (out += b.toString()));
  child.stderr.on('data', (b) => (out += b.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  return new Promise((r) =>
    child.once('exit', () => {
      clearTimeout(killer);
      // "average rate = 135584.56 msg/sec, count=339523, time=2.50414, ..."
      const m = /average rate = ([\d.]+) msg\/sec, count=(\d+), time=([\d.]+)/.exec(out);
      r({
        sent: m ? Number(m[2]) : undefined,
        sendRate: m ? Math.round(Number(m[1])) : undefined,
        sendSeconds: m ? Number(m[3]) : undefined,
        output: out.trim().split('\n').slice(-1).join(''),
      });
    }),
  );
}

/**
 * Polls `count()` every 50 ms until it reaches `want` or stops moving for `quietMs`; returns
 * the last count and the time (ms since epoch) at which it last changed.
 */
async function settle(count, want, quietMs) {
  let last = -1;
  let lastAt = Date.now();
  for (;;) {
    const v = await count();
    if (v !== last) {
      last = v;
      lastAt = Date.now();
    }
    if ((want !== undefined && v >= want) || Date.now() - lastAt > quietMs) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { count: last, lastAt };
}

// Both peers are measured the same way: messages made durable (sluice: stored under its
// default --fsync interval; syslog-ng: written to its file, no fsync) divided by the time from
// loggen's start to the moment the last of them landed.
// `peer` sluiceUncompressed: the store's closed segments left uncompressed (--compression
// none), as syslog-ng's plain file is; by default a worker thread gzips every closed segment
// while the run goes on, and its CPU time counts in the process's.
async function benchLoggenSluice(ng, seconds, peer = 'sluice', extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-serve-'));
  const { child, tcp, http } = await startServe(join(dir, 'store'), extraArgs);
  const cpu0 = cpuSeconds(child.pid);
  const main0 = cpuSeconds(child.pid, child.pid);
  const t0 = Date.now();
  const sent = await runLoggen(ng, tcp, seconds);
  const done = await settle(
    () => metric(http, 'sluice_serve_stored_records_total'),
    sent.sent,
    3000,
  );
  const rss = peakRss(child.pid);
  const cpu = cpuSeconds(child.pid) - cpu0;
  const mainCpu = cpuSeconds(child.pid, child.pid) - main0;
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
  report(peer, seconds, sent, done.count, (done.lastAt - t0) / 1000, rss, cpu);
  // The main thread frames, parses, encodes and appends; the rest is the compression worker,
  // V8's GC helpers and libuv's file-system threads.
  const entry = results.loggen[peer];
  entry.mainThreadCpuSeconds = mainCpu;
  entry.recordsPerMainThreadCpuSecond = perCpuSecond(done.count, mainCpu);
  console.log(
    `  ${peer}: main thread ${mainCpu.toFixed(2)} CPU-s = ` +
      `${entry.recordsPerMainThreadCpuSecond}/main-thread-CPU-s, other threads ` +
      `${(cpu - mainCpu).toFixed(2)} CPU-s`,
  );
}

async function benchLoggenSyslogNg(ng, seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-sng-'));
  const port = await freePort();
  const out = join(dir, 'out.log');
  const conf = join(dir, 'syslog-ng.conf');
  writeFileSync(
    conf,
    '@version: 3.38\noptions { flush-lines(1000); log-fifo-size(100000); };\n' +
      `source s { network(ip("127.0.0.1") port(${port}) transport("tcp") ` +
      'max-connections(100) log-iw-size(100000)); };\n' +
      `destination d { file("${out}"); };\nlog { source(s); destination(d); };\n`,
  );
  // Foreground, its own config, persist file, pid file and control socket in the temp dir,
  // and the plugins (afsocket for network(), affile) from the unpacked tree.
  const sng = spawn(
    ng.syslogng,
    [
      '-F',
      '--stderr',
      '-f',
      conf,
      '-R',
      join(dir, 'persist'),
      '-p',
      join(dir, 'pid'),
      '-c',
      join(dir, 'ctl'),
      `--module-path=${join(ng.x, 'usr/lib/syslog-ng/3.38')}`,
    ],
    { env: ng.env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  sng.stderr.on('data', (b) => (err += b.toString()));
  const started = await until(() => /Accepting connections/.test(err) || sng.exitCode !== null);
  if (!started || sng.exitCode !== null) {
    console.log(`syslog-ng did not start: ${err.trim().split('\n').slice(-2).join(' | ')}`);
    results.loggen.syslogNg = { error: err.trim().slice(-500) };
    sng.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const cpu0 = cpuSeconds(sng.pid);
  const t0 = Date.now();
  const sent = await runLoggen(ng, port, seconds);
  // The file's size stops growing once syslog-ng has written everything; lines are counted once.
  const size = () => (existsSync(out) ? statSync(out).size : 0);
  const done = await settle(size, undefined, 1000);
  const rss = peakRss(sng.pid);
  const cpu = cpuSeconds(sng.pid) - cpu0;
  await stop(sng);
  const lines = existsSync(out) ? countLines(out) : 0;
  rmSync(dir, { recursive: true, force: true });
  report('syslogNg', seconds, sent, lines, (done.lastAt - t0) / 1000, rss, cpu);
}

function report(peer, seconds, sent, stored, elapsed, rss, cpu) {
  const perSec = Math.round(stored / elapsed);
  const perCpu = perCpuSecond(stored, cpu);
  results.loggen[peer] = {
    seconds,
    sent: sent.sent,
    loggenSendRate: sent.sendRate,
    stored,
    elapsed,
    recordsPerSec: perSec,
    cpuSeconds: cpu,
    recordsPerCpuSecond: perCpu,
    peakRssBytes: rss,
    loggen: sent.output,
  };
  console.log(
    `loggen -> ${peer}: ${stored} of ${sent.sent ?? '?'} sent stored in ${elapsed.toFixed(2)} s` +
      ` = ${perSec}/s (loggen sent at ${sent.sendRate ?? '?'}/s), ${perCpu}/CPU-s,` +
      ` peak RSS ${mb(rss)}`,
  );
}

function countLines(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    for (let i = buf.indexOf(10); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
  }
  closeSync(fd);
  return lines;
}

function freePort() {
  return new Promise((r) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => r(port));
    });
  });
}

async function until(cond, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

async function benchIdle() {
  const n = 1000;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-serve-'));
  const { child, tcp } = await startServe(join(dir, 'store'));
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const s = connect({ host: '127.0.0.1', port: tcp });
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const rss = peakRss(child.pid);
  for (const s of sockets) s.destroy();
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
  results.idle = { connections: n, peakRssBytes: rss };
  console.log(`1000 idle connections: peak RSS ${mb(rss)}`);
}

function mb(bytes) {
  return bytes === undefined ? '?' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

if (!existsSync(cli)) {
  console.error(`bench/serve: ${cli} not found; run npm run build or set SLUICE_CLI`);
  process.exit(2);
}
// The machine is shared: the load average at start and end says how much to trust the figures.
results.machine = { cpus: cpus().length, loadAverageStart: loadavg() };
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const clients of [1, 10, 100]) await benchNdjson(clients);
await benchNdjson(10, 'records');
const ng = syslogNg();
const seconds = Math.max(2, Math.round(20 * scale));
if (ng) {
  await benchLoggenSluice(ng, seconds);
  await benchLoggenSyslogNg(ng, seconds);
  await benchLoggenSluice(ng, seconds, 'sluiceUncompressed', ['--compression', 'none']);
  const a = results.loggen.sluice?.recordsPerSec;
  const b = results.loggen.syslogNg?.recordsPerSec;
  if (a && b) {
    results.loggen.ratioSluiceToSyslogNg = a / b;
    console.log(`ratio sluice / syslog-ng (loggen): ${(a / b).toFixed(2)}`);
    const ac = results.loggen.sluice.recordsPerCpuSecond;
    const bc = results.loggen.syslogNg.recordsPerCpuSecond;
    if (ac && bc) {
      // On a shared machine the per-CPU-second ratio is the steadier one: it does not depend
      // on how much of the two cores the other tenants left to each run.
      results.loggen.ratioPerCpuSecond = ac / bc;
      console.log(`ratio sluice / syslog-ng per CPU-second: ${(ac / bc).toFixed(2)}`);
    }
    const u = results.loggen.sluiceUncompressed?.recordsPerSec;
    if (u) {
      results.loggen.ratioUncompressedToSyslogNg = u / b;
      console.log(`ratio sluice (--compression none) / syslog-ng (loggen): ${(u / b).toFixed(2)}`);
    }
  }
} else {
  results.loggen = { skipped: 'syslog-ng-core could not be downloaded and unpacked' };
}
await benchIdle();
results.machine.loadAverageEnd = loadavg();
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', 'serve.json'),
  JSON.stringify(results, null, 2) + '\n',
);
