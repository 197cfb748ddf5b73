// A real RFC 5425 peer: rsyslog with its OpenSSL network stream driver (Debian
// rsyslog-openssl) reads a file with imfile and forwards it with omfwd over TLS, octet-counted,
// verifying the collector's certificate name against the CA from `sluice certs init`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readStore, stop } from '../serve/helpers.js';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers.js';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

const rsyslogd = which('rsyslogd');
/** The OpenSSL driver ships as a loadable module in rsyslog-openssl. */
const osslDriver = ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/aarch64-linux-gnu/rsyslog']
  .map((d) => join(d, 'lmnsd_ossl.so'))
  .find((f) => existsSync(f));

const skip = !rsyslogd
  ? 'rsyslogd is not installed (apt-get install rsyslog rsyslog-openssl)'
  : !osslDriver
    ? 'rsyslog TLS driver lmnsd_ossl.so missing (apt-get install rsyslog-openssl)'
    : false;

test(
  'tls - rsyslog omfwd with the ossl driver delivers over TLS (RFC 5425) into the store',
  { skip, timeout: 60_000 },
  async () => {
    const dir = tempDir('sluice-rsyslog-tls-');
    const certs = join(dir.path, 'certs');
    const init = await runCli(
      ['certs', 'init', '--dir', certs, '--hosts', 'localhost,127.0.0.1', '--days', '2'],
      { timeoutMs: 30_000 },
    );
    assert.equal(init.code, 0, init.stderr);
    const store = join(dir.path, 'store');
    const serve = spawnCli([
      'serve',
      '--tcp',
      '127.0.0.1:0',
      '--tls',
      '127.0.0.1:0',
      '--cert',
      join(certs, 'server.pem'),
      '--key',
      join(certs, 'server-key.pem'),
      '--store',
      store,
    ]);
    const work = join(dir.path, 'rsyslog');
    mkdirSync(work);
    const input = join(dir.path, 'clinic.log');
    writeFileSync(input, '');
    let rsOut = '';
    let rs: ReturnType<typeof spawn> | undefined;
    try {
      const line = await waitForLine(
        serve,
        /"transport":"tls".*"msg":"Listening\."/,
        'stderr',
        20_000,
      );
      const tlsPort = JSON.parse(line.input).port as number;
      const conf = join(dir.path, 'rsyslog.conf');
      writeFileSync(
        conf,
        [
          `global(workDirectory="${work}" DefaultNetstreamDriver="ossl"`,
          `       DefaultNetstreamDriverCAFile="${join(certs, 'ca.pem')}")`,
          'module(load="imfile" mode="polling" PollingInterval="1")',
          `input(type="imfile" File="${input}" Tag="tlstest" Facility="local4" Severity="warning")`,
          `action(type="omfwd" target="127.0.0.1" port="${tlsPort}" protocol="tcp"`,
          '       StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name"',
          '       StreamDriverPermittedPeers="localhost"',
          '       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")',
          '',
        ].join('\n'),
      );
      // Only rsyslog connects, and only to the TLS port.
      let opened = false;
      let serveErr = '';
      serve.stderr?.on('data', (b: Buffer) => {
        serveErr += b.toString();
        if (serveErr.includes('Connection opened')) opened = true;
      });
      rs = spawn(rsyslogd as string, ['-n', '-f', conf, '-i', join(work, 'pid')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      rs.stderr?.on('data', (b: Buffer) => (rsOut += b.toString()));
      rs.stdout?.on('data', (b: Buffer) => (rsOut += b.toString()));
      await new Promise((r) => setTimeout(r, 1000));
      const lines = Array.from({ length: 40 }, (_, i) => `tls forwarded line ${i} ünïcode`);
      appendFileSync(input, lines.join('\n') + '\n');

      const deadline = Date.now() + 25_000;
      let got: Awaited<ReturnType<typeof readStore>> = [];
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        if (!opened) continue;
        // The store is readable while serve runs; stop once every line is in.
        got = (await readStore(store).catch(() => [])).filter((r) => r.service === 'tlstest');
        if (got.length >= lines.length) break;
      }
      assert.ok(opened, `rsyslog never connected; rsyslog: ${rsOut}; serve: ${serveErr}`);
      await stop(rs);
      assert.equal(await stop(serve), 0);
      got = (await readStore(store)).filter((r) => r.service === 'tlstest');
      assert.deepEqual(
        got.map((r) => r.message),
        lines,
        `rsyslog output: ${rsOut}`,
      );
      for (const r of got) {
        assert.equal(r.format, 'syslog_rfc5424');
        assert.equal(r.level, 'warn');
        assert.equal(r.syslog?.facility, 'local4');
      }
    } finally {
      if (rs) await stop(rs, 'SIGKILL');
      await stop(serve, 'SIGKILL');
      dir.cleanup();
    }
  },
);
