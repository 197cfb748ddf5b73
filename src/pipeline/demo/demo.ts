// `sluice demo`: the whole system as separate processes on loopback. A collector with TLS 1.3
// and a store; generators writing rotating files from three scenarios; a shipper tailing
// those files and the sample logs, redacting PHI and shipping with adaptive compression.
// The demo shows a live status, then stops everything in order and proves, from each
// process's own counters and from the store, that nothing went missing.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { IoError } from '../../errors.js';
import { fileURLToPath } from 'node:url';
import { initCerts, CERT_FILES } from '../../net/certs.js';
import { listSegments, openStoreReader } from '../../store/index.js';
import { formatBytes } from '../../util/units.js';
import { DemoProcess, logFields } from './process.js';
import { scrape, total, byLabel, type Scrape } from './scrape.js';

export interface DemoOptions {
  dir: string;
  durationMs?: number;
  /** Lines per second of each generator. */
  ratePerSec: number;
  statusIntervalMs: number;
  /** Rotated files each generator keeps (enough that the shipper always finishes them). */
  rotateKeep: number;
  out: (line: string) => void;
  signal: AbortSignal;
}

const SCENARIOS = [
  { name: 'web', format: 'apache_combined' },
  { name: 'incident', format: 'json' },
  { name: 'healthcare', format: 'syslog_rfc5424' },
] as const;

/** The package's samples/ folder, found upwards from this file (dist/ or a build folder). */
function samplesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, 'samples', 'NOTICE.md'))) return join(dir, 'samples');
    dir = dirname(dir);
  }
  throw new IoError('demo: cannot find the samples/ folder of the sluice package.');
}

export interface DemoResult {
  written: number;
  stored: number;
  balanced: boolean;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const dir = resolve(o.dir);
  const paths = {
    certs: join(dir, 'certs'),
    logs: join(dir, 'logs'),
    samples: join(dir, 'samples'),
    store: join(dir, 'store'),
    spool: join(dir, 'spool'),
    proc: join(dir, 'process-logs'),
  };
  for (const p of Object.values(paths)) mkdirSync(p, { recursive: true });
  await ensureCerts(paths.certs, o.out);
  const sampleLines = copySamples(paths.samples);
  const procs: DemoProcess[] = [];
  const started = Date.now();
  try {
    const serve = new DemoProcess('serve', serveArgs(paths), join(paths.proc, 'serve.log'));
    procs.push(serve);
    const tlsPort = await listenPort(serve, 'tls');
    const servePort = await listenPort(serve, 'http');
    o.out(`collector: TLS 1.3 on 127.0.0.1:${tlsPort}, metrics on 127.0.0.1:${servePort}`);

    const gens = SCENARIOS.map((s) => {
      const p = new DemoProcess(
        `generate ${s.name}`,
        genArgs(s.name, s.format, paths.logs, o),
        join(paths.proc, `generate-${s.name}.log`),
      );
      procs.push(p);
      return { ...s, proc: p };
    });
    const ship = new DemoProcess('ship', shipArgs(paths, tlsPort), join(paths.proc, 'ship.log'));
    procs.push(ship);
    const shipPort = await listenPort(ship, 'http');
    o.out(`shipper: health and metrics on 127.0.0.1:${shipPort}`);
    o.out(`generators: ${SCENARIOS.map((s) => s.name).join(', ')} at ${o.ratePerSec}/s each`);

    await showStatus(o, started, paths.store, servePort, shipPort);

    o.out('\nStopping: generators first, then the shipper once all is acknowledged.');
    const written: Record<string, number> = {};
    for (const g of gens) written[g.name] = await generatorLines(g.proc);
    const generated = Object.values(written).reduce((a, b) => a + b, 0);
    const expected = generated + sampleLines;
    const final = await drain(shipPort, servePort, expected);
    await ship.stop();
    await serve.stop();
    const inStore = await readStore(paths.store);
    const report = conservation(written, sampleLines, final.ship, final.serve, inStore);
    o.out('\n' + report.text);
    o.out(await storeSummary(paths.store, inStore));
    o.out(explore(dir));
    return { written: expected, stored: inStore.records, balanced: report.balanced };
  } finally {
    await Promise.all(procs.map((p) => p.stop(10_000)));
  }
}

async function ensureCerts(dir: string, out: (l: string) => void): Promise<void> {
  if (existsSync(join(dir, CERT_FILES.caCert))) return;
  await initCerts({
    dir,
    hosts: ['localhost', '127.0.0.1'],
    days: 365,
    clientName: 'demo-shipper',
  });
  out(`certificates: created a CA, a server and a client certificate in ${dir}`);
}

/** Copies the shipped sample logs once; returns how many lines they hold. */
function copySamples(dir: string): number {
  let lines = 0;
  const from = samplesDir();
  for (const name of readdirSync(from).filter((n) => n.endsWith('.log'))) {
    const to = join(dir, name);
    if (!existsSync(to)) copyFileSync(join(from, name), to);
    const text = readFileSync(to, 'utf8');
    lines += text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).length;
  }
  return lines;
}

function serveArgs(p: Record<string, string>): string[] {
  const c = (f: string) => join(p.certs, f);
  return [
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
    p.store,
    '--metrics',
    '127.0.0.1:0',
    // Small enough that rotation, compression and retention are seen within a minute.
    '--segment-size',
    '512KiB',
    '--segment-age',
    '20s',
    '--compression',
    'gzip',
    '--retain-segments',
    '200',
    '--summary-interval',
    '0',
  ];
}

function genArgs(scenario: string, format: string, logs: string, o: DemoOptions): string[] {
  return [
    'generate',
    '--scenario',
    scenario,
    '--format',
    format,
    '--rate',
    String(o.ratePerSec),
    '--out',
    join(logs, `${scenario}.log`),
    '--rotate-size',
    '1MB',
    '--rotate-keep',
    String(o.rotateKeep),
  ];
}

function shipArgs(p: Record<string, string>, tlsPort: number): string[] {
  const c = (f: string) => join(p.certs, f);
  return [
    'ship',
    join(p.logs, '*.log'),
    join(p.samples, '*.log'),
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
    p.spool,
    '--source-id',
    'demo',
    '--start-at',
    'beginning',
    '--batch-wait',
    '500ms',
    '--health',
    '127.0.0.1:0',
    '--status-interval',
    '0',
    '--no-progress',
  ];
}

/** Waits for the process's "listening" log line of one transport; returns the bound port. */
async function listenPort(p: DemoProcess, transport: 'tls' | 'http'): Promise<number> {
  const line = await p.waitFor((l) => {
    const f = logFields(l);
    const listening = typeof f?.msg === 'string' && /listening/i.test(f.msg);
    return (
      listening &&
      (transport === 'http'
        ? f?.transport !== 'tls' && f?.transport !== 'tcp'
        : f?.transport === 'tls')
    );
  });
  return Number(logFields(line)!.port);
}

async function showStatus(
  o: DemoOptions,
  started: number,
  store: string,
  servePort: number,
  shipPort: number,
): Promise<void> {
  let last = { t: Date.now(), read: 0, acked: 0, stored: 0 };
  while (!o.signal.aborted) {
    const left =
      o.durationMs === undefined ? o.statusIntervalMs : started + o.durationMs - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(o.statusIntervalMs, left), o.signal);
    const [sh, sv] = await Promise.all([scrape(shipPort), scrape(servePort)]).catch(() => []);
    if (!sh || !sv) continue;
    const now = {
      t: Date.now(),
      read: total(sh, 'sluice_file_source_lines_total'),
      acked: total(sh, 'sluice_ship_records_acked_total'),
      stored: total(sv, 'sluice_serve_stored_records_total'),
    };
    const secs = (now.t - last.t) / 1000;
    const rate = (a: number, b: number) => Math.round((a - b) / secs);
    const codec = (sh.get('sluice_ship_codec_info') ?? []).find((v) => v.value === 1)?.labels;
    const segs = await listSegments(store).catch(() => []);
    const storeBytes = segs.reduce((a, s) => a + s.sizeBytes, 0);
    o.out(
      `[${Math.round((now.t - started) / 1000)}s] read ${rate(now.read, last.read)}/s` +
        ` | shipped+acked ${rate(now.acked, last.acked)}/s,` +
        ` spool ${total(sh, 'sluice_ship_spool_batches')} batches,` +
        ` ${codec ? `${codec.codec}:${codec.level}` : '?'}` +
        ` ratio ${total(sh, 'sluice_ship_compression_ratio').toFixed(1)}x` +
        ` | stored ${rate(now.stored, last.stored)}/s, ${segs.length} segments,` +
        ` ${formatBytes(storeBytes)}`,
    );
    last = now;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    // The listener is removed when the timer fires, or every status tick would leave one.
    const onAbort = () => {
      clearTimeout(timer);
      resolveSleep();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolveSleep();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Stops a generator and reads the line count from its closing summary. */
async function generatorLines(p: DemoProcess): Promise<number> {
  const summary = p.waitFor((l) => l.startsWith('sluice generate:'), 30_000);
  await p.stop();
  const m = /^sluice generate: (\d+) lines/.exec(await summary);
  return m ? Number(m[1]) : NaN;
}

/** Waits until the shipper has read every written line and every batch is acknowledged. */
async function drain(shipPort: number, servePort: number, expected: number) {
  const deadline = Date.now() + 60_000;
  let sh: Scrape = new Map();
  let sv: Scrape = new Map();
  while (Date.now() < deadline) {
    [sh, sv] = await Promise.all([scrape(shipPort), scrape(servePort)]);
    const read = total(sh, 'sluice_file_source_lines_total');
    const parsed = total(sh, 'sluice_file_source_records_total');
    const dropped = total(sh, 'sluice_ship_dropped_records_total');
    const acked = total(sh, 'sluice_ship_records_acked_total');
    const spool = total(sh, 'sluice_ship_spool_batches');
    // Every line read, every record acknowledged or counted as dropped, nothing waiting.
    if (read >= expected && acked + dropped >= parsed && spool === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ship: sh, serve: sv };
}

interface StoreContents {
  records: number;
  redacted: number;
  levels: Record<string, number>;
  services: Record<string, number>;
}

/** Reads the store once: the counts the report checks and the summary shows. */
async function readStore(dir: string): Promise<StoreContents> {
  const contents: StoreContents = { records: 0, redacted: 0, levels: {}, services: {} };
  for await (const batch of openStoreReader(dir, {})) {
    contents.records += batch.length;
    for (const r of batch) {
      if (r.tags?.includes('redacted')) contents.redacted++;
      contents.levels[r.level] = (contents.levels[r.level] ?? 0) + 1;
      const s = r.service ?? r.format;
      contents.services[s] = (contents.services[s] ?? 0) + 1;
    }
  }
  return contents;
}

interface Report {
  text: string;
  balanced: boolean;
}

function conservation(
  written: Record<string, number>,
  sampleLines: number,
  sh: Scrape,
  sv: Scrape,
  store: { records: number; redacted: number },
): Report {
  const generated = Object.values(written).reduce((a, b) => a + b, 0);
  const read = total(sh, 'sluice_file_source_lines_total');
  const records = total(sh, 'sluice_file_source_records_total');
  const shipDropped = byLabel(sh, 'sluice_ship_dropped_records_total', 'reason');
  const acked = total(sh, 'sluice_ship_records_acked_total');
  const received = total(sv, 'sluice_serve_received_records_total');
  const serveDropped = byLabel(sv, 'sluice_serve_dropped_records_total', 'reason');
  const stored = total(sv, 'sluice_serve_stored_records_total');
  const dupBatches = total(sv, 'sluice_collector_duplicate_batches_total');
  const redactions = byLabel(sh, 'sluice_redact_matches_total', 'kind');
  const sumOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const rows: Array<[string, number, string]> = [
    [
      'written by generators',
      generated,
      Object.entries(written)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ['sample file lines', sampleLines, 'samples/*.log'],
    ['lines read by the shipper', read, ''],
    ['records parsed', records, read === records ? '' : `${read - records} lines joined`],
    ['dropped by the shipper', sumOf(shipDropped), fmt(shipDropped)],
    ['acknowledged by the collector', acked, ''],
    ['received by the collector', received, 'repeats of batches it had stored are not counted'],
    ['dropped by the collector', sumOf(serveDropped), fmt(serveDropped)],
    ['stored (collector counter)', stored, `${dupBatches} repeated batches suppressed`],
    ['records in the store', store.records, `${store.redacted} carry the redacted tag`],
  ];
  const checks = [
    read === generated + sampleLines,
    records - sumOf(shipDropped) === acked,
    acked === stored + sumOf(serveDropped),
    stored === store.records,
  ];
  const balanced = checks.every(Boolean);
  const text = [
    "Conservation report (from each process's own counters):",
    ...rows.map(([what, n, why]) => `  ${what.padEnd(32)} ${String(n).padStart(9)}  ${why}`),
    `  PHI redactions by kind: ${fmt(redactions) || 'none'}`,
    balanced
      ? '  Balanced: written = read = parsed = acknowledged = stored, every difference explained.'
      : '  NOT balanced: see the rows above and the logs in process-logs/.',
  ].join('\n');
  return { text, balanced };
}

function fmt(r: Record<string, number>): string {
  return Object.entries(r)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
}

async function storeSummary(dir: string, contents: StoreContents): Promise<string> {
  const segs = await listSegments(dir);
  const top = Object.entries(contents.services)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6);
  const states: Record<string, number> = {};
  for (const s of segs) states[s.state] = (states[s.state] ?? 0) + 1;
  return [
    '\nThe store:',
    `  segments: ${segs.length} (${fmt(states)})`,
    `  levels: ${fmt(contents.levels)}`,
    `  top services/formats: ${top.map(([k, n]) => `${k}=${n}`).join(' ')}`,
  ].join('\n');
}

function explore(dir: string): string {
  const store = join(dir, 'store');
  return [
    '\nExplore it further:',
    `  sluice query --store ${store} --level error --limit 20`,
    `  sluice query --store ${store} --where 'http.status >= 500' --stats --top http.path`,
    `  sluice query --store ${store} --grep REDACTED --limit 5`,
    `  sluice store ls --dir ${store}`,
    `  sluice store verify --dir ${store}`,
    `  sluice certs show ${join(dir, 'certs')}`,
  ].join('\n');
}
