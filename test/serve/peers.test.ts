// Real senders that nobody here wrote: util-linux `logger` (octet-counted and newline TCP) and
// rsyslog forwarding with omfwd. Each is skipped with a message when it is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { readStore, startServe, stop } from './helpers.js';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

const logger = which('logger');
const rsyslogd = which('rsyslogd');

test(
  'serve - logger --tcp, octet-counted and newline-framed, arrives and parses',
  {
    skip: logger ? false : 'logger (util-linux) is not installed',
  },
  async () => {
    const dir = tempDir();
    const { child, port } = await startServe(['--store', join(dir.path, 'store')]);
    try {
      const send = (extra: string[], text: string) => {
        const r = spawnSync(logger as string, [
          '--tcp',
          '-n',
          '127.0.0.1',
          '-P',
          String(port),
          '-t',
          'peertest',
          '-p',
          'local3.err',
          ...extra,
          text,
        ]);
        assert.equal(r.status, 0, r.stderr.toString());
      };
      send(['--octet-count'], 'counted message with ünïcode');
      send(['--octet-count', '--rfc5424'], 'counted 5424 message');
      send([], 'newline message');
      assert.equal(await stop(child), 0);
      const records = await readStore(join(dir.path, 'store'));
      const byMessage = new Map(records.map((r) => [r.message, r]));
      for (const m of ['counted message with ünïcode', 'counted 5424 message', 'newline message']) {
        const r = byMessage.get(m);
        assert.ok(r, `"${m}" stored; got ${JSON.stringify([...byMessage.keys()])}`);
        assert.equal(r.service, 'peertest');
        assert.equal(r.level, 'error');
        assert.equal(r.syslog?.facility, 'local3');
        assert.match(r.format, /^syslog_rfc(3164|5424)$/);
      }
      assert.equal(byMessage.get('counted 5424 message')?.format, 'syslog_rfc5424');
    } finally {
      await stop(child, 'SIGKILL');
      dir.cleanup();
    }
  },
);

test(
  'serve - rsyslog omfwd over TCP forwards a file into the collector',
  {
    skip: rsyslogd ? false : 'rsyslogd is not installed (apt-get install rsyslog)',
    timeout: 60_000,
  },
  async () => {
    const dir = tempDir();
    const { child, port } = await startServe(['--store', join(dir.path, 'store')]);
    const work = join(dir.path, 'rsyslog');
    mkdirSync(work);
    const input = join(dir.path, 'app.log');
    writeFileSync(input, '');
    const conf = join(dir.path, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${work}")`,
        'module(load="imfile" mode="polling" PollingInterval="1")',
        `input(type="imfile" File="${input}" Tag="fwdtest" Facility="local4" Severity="warning")`,
        `action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp"`,
        '       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")',
        '',
      ].join('\n'),
    );
    const rs = spawn(rsyslogd as string, ['-n', '-f', conf, '-i', join(work, 'pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let rsOut = '';
    rs.stderr.on('data', (b: Buffer) => (rsOut += b.toString()));
    rs.stdout.on('data', (b: Buffer) => (rsOut += b.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const lines = Array.from({ length: 50 }, (_, i) => `forwarded line ${i}`);
      appendFileSync(input, lines.join('\n') + '\n');
      const deadline = Date.now() + 20_000;
      let opened = false;
      child.stderr?.on('data', (b: Buffer) => {
        if (b.toString().includes('Connection opened')) opened = true;
      });
      while (!opened && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(opened, `rsyslog never connected; its output: ${rsOut}`);
      await new Promise((r) => setTimeout(r, 1500));
      await stop(rs);
      assert.equal(await stop(child), 0);
      const records = await readStore(join(dir.path, 'store'));
      const got = records.filter((r) => r.service === 'fwdtest');
      assert.deepEqual(
        got.map((r) => r.message),
        lines,
      );
      for (const r of got) {
        assert.equal(r.format, 'syslog_rfc5424');
        assert.equal(r.level, 'warn');
        assert.equal(r.syslog?.facility, 'local4');
      }
    } finally {
      await stop(rs, 'SIGKILL');
      await stop(child, 'SIGKILL');
      dir.cleanup();
    }
  },
);
