// Benchmark of `sluice generate`: lines/s with --rate 0 to /dev/null for each format, and the
// achieved rate against the asked one at 10,000/s and 100,000/s over a 10 s window. Peers,
// measured in the same run: a bare Node loop writing one constant line in the same chunks, and
// syslog-ng's loggen when installed. Prints each figure, ratios and peak RSS, and writes
// bench/results/generate.json. BENCH_SCALE scales the line counts.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(process.env.SLUICE_CLI ?? join(here, '..', 'dist', 'src', 'cli', 'main.js'));
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const FORMATS = [
  'apache_common',
  'apache_combined',
  'apache_error',
  'nginx_error',
  'syslog_rfc3164',
  'syslog_rfc5424',
  'json',
  'logfmt',
];
const LINES = Math.max(10_000, Math.round(3_000_000 * SCALE));
// The rate target is defined over 10 s windows, so the window does not shrink with the scale.
const WINDOW_S = 10;

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * Peak resident set and CPU seconds of a running child, read from /proc while it runs (Linux).
 * CPU time matters here: on a shared machine wall-clock rates say more about the neighbours.
 */
function watchRss(pid) {
  let peak = 0;
  let cpuS = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      // The child has gone; keep the last reading.
    }
  }, 25);
  const stop = () => {
    clearInterval(timer);
    return peak;
  };
  stop.cpuS = () => cpuS;
  return stop;
}

function run(args, stdoutFd) {
  return new Promise((resolveRun) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', stdoutFd, 'pipe'] });
    const stopRss = watchRss(child.pid);
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => {
      const rssBytes = stopRss();
      const cpuS = stopRss.cpuS();
      resolveRun({ code, stderr, wallMs: performance.now() - started, rssBytes, cpuS });
    });
  });
}

const PEER = `
const line = '192.0.2.44 - - [01/Mar/2026:08:00:00 +0000] "GET /products/trail-runner-2 HTTP/1.1" 200 18234 "https://www.google.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"\\n';
const n = Number(process.argv[1]);
const started = performance.now();
let written = 0;
(async () => {
  while (written < n) {
    const k = Math.min(4096, n - written);
    const buf = Buffer.from(line.repeat(k));
    if (!process.stdout.write(buf)) await new Promise((r) => process.stdout.once('drain', r));
    written += k;
  }
  const ms = performance.now() - started;
  process.stderr.write('peer: ' + n + ' lines in ' + (ms / 1000).toFixed(2) + ' s (' + (n * 1000 / ms).toFixed(1) + ' lines/s)\\n');
})();
`;

function ratePerSec(stderr) {
  const m = /\(([\d.]+) lines\/s/.exec(stderr);
  return m ? Number(m[1]) : NaN;
}

async function unthrottled() {
  const devnull = openSync('/dev/null', 'w');
  const out = {};
  const peer = await run(['-e', PEER, String(LINES)], devnull);
  const peerRate = ratePerSec(peer.stderr);
  const peerCpuRate = LINES / peer.cpuS;
  console.log(
    `peer (bare Node loop, constant line): ${peerRate.toFixed(0)} lines/s, ` +
      `${peerCpuRate.toFixed(0)} lines per CPU-second`,
  );
  out.peer_node_constant_line = {
    lines_per_s: peerRate,
    lines_per_cpu_s: peerCpuRate,
    peak_rss_bytes: peer.rssBytes,
  };
  for (const format of FORMATS) {
    const args = [
      CLI,
      'generate',
      '-f',
      format,
      '--rate',
      '0',
      '-n',
      String(LINES),
      '--start-time',
      '2026-03-01T00:00:00Z',
    ];
    const r = await run(args, devnull);
    if (r.code !== 0) throw new Error(`generate ${format} failed: ${r.stderr}`);
    const rate = ratePerSec(r.stderr);
    const cpuRate = LINES / r.cpuS;
    const rss = (r.rssBytes / 1048576).toFixed(0);
    console.log(
      `${format}: ${rate.toFixed(0)} lines/s (${(rate / peerRate).toFixed(2)}x peer), ` +
        `${cpuRate.toFixed(0)} lines per CPU-second (${(cpuRate / peerCpuRate).toFixed(2)}x peer), ` +
        `peak RSS ${rss} MiB`,
    );
    out[format] = {
      lines_per_s: rate,
      ratio_vs_peer: rate / peerRate,
      lines_per_cpu_s: cpuRate,
      cpu_ratio_vs_peer: cpuRate / peerCpuRate,
      peak_rss_bytes: r.rssBytes,
    };
  }
  closeSync(devnull);
  return out;
}

/** Counts lines arriving on the child's stdout and the achieved rate over a window. */
function paced(asked) {
  return new Promise((resolvePaced) => {
    const child = spawn(
      process.execPath,
      [CLI, 'generate', '-f', 'apache_combined', '--rate', String(asked)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stopRss = watchRss(child.pid);
    const warmupMs = 3000;
    let lines = 0;
    let t0;
    let start = 0;
    let atStart = 0;
    let atEnd = 0;
    child.stdout.on('data', (b) => {
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
      const now = performance.now();
      t0 ??= now;
      if (!start && now - t0 >= warmupMs) {
        start = now;
        atStart = lines;
      }
      if (start && now - start <= WINDOW_S * 1000) atEnd = lines;
      if (start && now - start > WINDOW_S * 1000 + 200) child.kill('SIGTERM');
    });
    child.on('close', () => {
      const achieved = (atEnd - atStart) / WINDOW_S;
      const errPct = ((achieved - asked) / asked) * 100;
      console.log(
        `paced ${asked}/s: achieved ${achieved.toFixed(1)}/s over ${WINDOW_S} s ` +
          `(${errPct >= 0 ? '+' : ''}${errPct.toFixed(2)}%), peak RSS ` +
          `${(stopRss() / 1048576).toFixed(0)} MiB`,
      );
      resolvePaced({ asked, achieved, error_pct: errPct, window_s: WINDOW_S });
    });
  });
}

function loggen() {
  const which = spawnSync('sh', ['-c', 'command -v loggen'], { encoding: 'utf8' });
  if (which.status !== 0) {
    console.log('loggen: not installed; skipped');
    return { skipped: 'not installed' };
  }
  return { skipped: 'present but needs a syslog target; not measured here' };
}

const results = {
  scale: SCALE,
  lines_per_format: LINES,
  node: process.version,
  unthrottled: await unthrottled(),
  paced: [await paced(10_000), await paced(100_000)],
  loggen: loggen(),
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'generate.json'), JSON.stringify(results, null, 2) + '\n');
console.log('wrote bench/results/generate.json');
