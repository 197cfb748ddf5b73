// `sluice run` with every stage type, as two real processes: a collecting pipeline (tcp and
// tls sources into a store and batch files) and a sending one (generate, file and stdin
// sources through every transform into stdout and two ship sinks).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';
import { openStoreReader } from '../../src/store/index.js';

function collect(child: ReturnType<typeof spawnCli>, stream: 'stdout' | 'stderr') {
  const chunks: Buffer[] = [];
  child[stream]!.on('data', (b: Buffer) => chunks.push(b));
  return () => Buffer.concat(chunks).toString('utf8');
}

function exited(child: ReturnType<typeof spawnCli>): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test(
  'run - a pipeline with every stage type delivers and balances',
  { timeout: 120_000 },
  async () => {
    const dir = tempDir('sluice-run-');
    const children: Array<ReturnType<typeof spawnCli>> = [];
    try {
      const certs = join(dir.path, 'certs');
      const made = await runCli([
        'certs',
        'init',
        '--dir',
        certs,
        '--hosts',
        'localhost,127.0.0.1',
      ]);
      assert.equal(made.code, 0, made.stderr);
      writeFileSync(
        join(dir.path, 'collect.yaml'),
        [
          'sources:',
          '  plain:',
          '    type: tcp',
          '    listen: 127.0.0.1:0',
          '  secure:',
          '    type: tls',
          '    listen: 127.0.0.1:0',
          `    cert: ${join(certs, 'server.pem')}`,
          `    key: ${join(certs, 'server-key.pem')}`,
          'sinks:',
          '  archive:',
          '    type: store',
          `    dir: ${join(dir.path, 'store')}`,
          '    inputs: [plain, secure]',
          '  batches:',
          '    type: file',
          `    out: ${join(dir.path, 'batches')}`,
          '    inputs: [plain]',
          '',
        ].join('\n'),
      );
      const collector = spawnCli(['run', join(dir.path, 'collect.yaml')]);
      children.push(collector);
      const collectorErr = collect(collector, 'stderr');
      const collectorDone = exited(collector);
      const [tcpLine, tlsLine] = await Promise.all([
        waitForLine(collector, /"transport":"tcp".*"Listening\."/),
        waitForLine(collector, /"transport":"tls".*"Listening\."/),
      ]);
      const tcpPort = JSON.parse(tcpLine.input).port as number;
      const tlsPort = JSON.parse(tlsLine.input).port as number;

      const appLog = join(dir.path, 'app.log');
      copyFileSync(fixture('corpus', 'lnav', 'logfile_logfmt.0'), appLog);
      writeFileSync(
        join(dir.path, 'send.yaml'),
        [
          'sources:',
          '  gen:',
          '    type: generate',
          '    scenario: healthcare',
          '    format: json',
          '    rate: 0',
          '    count: 300',
          '    seed: 3',
          '  app:',
          '    type: file',
          `    path: ${appLog}`,
          '    start-at: beginning',
          `    state: ${join(dir.path, 'state')}`,
          '  piped:',
          '    type: stdin',
          '    format: text',
          'transforms:',
          '  parsed:',
          '    type: parse',
          '    inputs: [piped]',
          '  tagged:',
          '    type: tag',
          "    tag: ['clinic=patient']",
          '    inputs: [gen]',
          '  clean:',
          '    type: redact',
          '    redact: hipaa',
          '    inputs: [tagged]',
          '  all:',
          '    type: sample',
          '    rate: 1',
          '    inputs: [clean, app]',
          '  capped:',
          '    type: rate_limit',
          '    rate-limit: 1000000/s',
          '    inputs: [all]',
          '  errors:',
          '    type: filter',
          '    level: error',
          '    inputs: [parsed]',
          'sinks:',
          '  console:',
          '    type: stdout',
          '    inputs: [errors]',
          '  viaTcp:',
          '    type: ship',
          `    to: tcp://127.0.0.1:${tcpPort}`,
          '    compress: gzip',
          '    batch-wait: 200ms',
          '    inputs: [parsed]',
          '  viaTls:',
          '    type: ship',
          `    to: tls://127.0.0.1:${tlsPort}`,
          `    ca: ${join(certs, 'ca.pem')}`,
          '    compress: auto',
          '    batch-wait: 200ms',
          '    inputs: [capped]',
          '',
        ].join('\n'),
      );
      const sender = spawnCli(['run', join(dir.path, 'send.yaml'), '--report', 'json']);
      children.push(sender);
      const senderOut = collect(sender, 'stdout');
      const senderErr = collect(sender, 'stderr');
      const senderDone = exited(sender);
      sender.stdin!.end(
        '<11>Mar  1 08:15:02 web1 app[12]: disk failed\n<14>Mar  1 08:15:03 web1 app[12]: ok\n',
      );
      // The file source follows its file until stopped: ask for the report (SIGUSR1) until the
      // ship sinks have delivered everything the finite sources produced, then stop.
      await waitForLine(sender, /"Pipeline started\."/);
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        sender.kill('SIGUSR1');
        await new Promise((r) => setTimeout(r, 500));
        const last = lastReport(senderErr());
        const out = (s: string) => last?.find((r) => r.stage === s)?.out ?? 0;
        if (out('viaTls') === 305 && out('viaTcp') === 2) break;
      }
      sender.kill('SIGTERM');
      assert.equal(await senderDone, 0, senderErr());
      const report = lastReport(senderErr())!;
      const row = (s: string) => report.find((r) => r.stage === s)!;
      assert.ok(
        report.every((r) => r.balanced),
        senderErr(),
      );
      assert.equal(row('gen').out, 300);
      assert.equal(row('app').out, 5);
      assert.equal(row('errors').out, 1);
      assert.equal(row('viaTls').out, 305);
      assert.equal(row('viaTcp').out, 2);
      const printed = senderOut()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(printed.length, 1);
      assert.equal(printed[0].message, 'disk failed');

      collector.kill('SIGTERM');
      assert.equal(await collectorDone, 0, collectorErr());
      const stored = [];
      for await (const batch of openStoreReader(join(dir.path, 'store'), {})) stored.push(...batch);
      assert.equal(stored.length, 307);
      const clinic = stored.filter((r) => r.tags?.includes('clinic'));
      assert.ok(clinic.length > 0 && clinic.every((r) => !/MRN-\d/.test(r.message)));
      const files = readdirSync(join(dir.path, 'batches'));
      const inFiles = files
        .map(
          (f) =>
            readFileSync(join(dir.path, 'batches', f), 'utf8')
              .trim()
              .split('\n').length,
        )
        .reduce((a, b) => a + b, 0);
      assert.equal(inFiles, 2);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      dir.cleanup();
    }
  },
);

interface Row {
  stage: string;
  in: number;
  out: number;
  balanced: boolean;
}

/** The last conservation report a `sluice run --report json` printed on stderr. */
function lastReport(stderr: string): Row[] | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('{"conservation"'));
  if (lines.length === 0) return undefined;
  return (JSON.parse(lines[lines.length - 1]) as { conservation: Row[] }).conservation;
}
