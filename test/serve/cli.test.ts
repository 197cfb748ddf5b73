// `sluice serve` as a real process: many clients, SIGTERM drain, SIGHUP reload, bad config.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, waitForLine } from '../helpers.js';
import { connectTo, endAndWait, readStore, startServe, stop } from './helpers.js';

function ndjson(client: number, from: number, count: number): string {
  let s = '';
  for (let i = from; i < from + count; i++) {
    s += `{"level":"info","msg":"c${client} r${i}","client":${client},"seq":${i}}\n`;
  }
  return s;
}

test('serve - 200 concurrent clients x 5,000 records: all stored exactly once', async () => {
  const dir = tempDir();
  const { child, port } = await startServe(['--store', join(dir.path, 'store')]);
  try {
    const clients = 200;
    const perClient = 5000;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const s = await connectTo(port);
        for (let from = 0; from < perClient; from += 1000) s.write(ndjson(c, from, 1000));
        await endAndWait(s);
      }),
    );
    assert.equal(await stop(child), 0);
    const records = await readStore(join(dir.path, 'store'));
    assert.equal(records.length, clients * perClient);
    const seen = new Set<string>();
    for (const r of records) seen.add(`${r.fields?.client}/${r.fields?.seq}`);
    assert.equal(seen.size, clients * perClient, 'no duplicates, none missing');
  } finally {
    await stop(child, 'SIGKILL');
    dir.cleanup();
  }
});

test('serve - SIGTERM during load loses nothing from clients that closed cleanly', async () => {
  const dir = tempDir();
  const { child, port } = await startServe(['--store', join(dir.path, 'store')]);
  let opened = 0;
  child.stderr?.on('data', (b: Buffer) => {
    opened += b.toString().split('"msg":"Connection opened."').length - 1;
  });
  try {
    const clients = 20;
    const closedCleanly: number[] = [];
    const sockets = await Promise.all(Array.from({ length: clients }, () => connectTo(port)));
    const running = sockets.map(async (s, c) => {
      let failed = false;
      s.on('error', () => (failed = true));
      for (let from = 0; from < 20_000; from += 500) {
        if (s.destroyed || s.writableEnded) return;
        await new Promise<void>((r) => s.write(ndjson(c, from, 500), () => r()));
        if (c % 2 === 0 && from === 5000) {
          // Half the clients finish early and close, just as the signal lands.
          const reply = await endAndWait(s);
          if (!failed && reply === '') closedCleanly.push(c);
          return;
        }
      }
      await endAndWait(s);
    });
    const waitStart = Date.now();
    while (opened < clients && Date.now() - waitStart < 10_000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const code = await stop(child, 'SIGTERM');
    await Promise.allSettled(running);
    assert.equal(code, 0);
    const records = await readStore(join(dir.path, 'store'));
    for (const c of closedCleanly) {
      const mine = records.filter((r) => r.fields?.client === c);
      assert.equal(mine.length, 5500, `client ${c} wrote 5,500 records and closed`);
    }
    assert.ok(closedCleanly.length >= clients / 4, `${closedCleanly.length} clean closes`);
  } finally {
    await stop(child, 'SIGKILL');
    dir.cleanup();
  }
});

test('serve - SIGHUP reloads --config; a bad config is refused with its key named', async () => {
  const dir = tempDir();
  const config = join(dir.path, 'serve.yaml');
  writeFileSync(config, 'min-level: error\n');
  const { child, port } = await startServe([
    '--store',
    join(dir.path, 'store'),
    '--config',
    config,
  ]);
  try {
    const send = async (tag: string) => {
      const s = await connectTo(port);
      s.write(`{"level":"warn","msg":"${tag}"}\n`);
      await endAndWait(s);
    };
    await send('before');
    writeFileSync(config, 'min-level: warn\n');
    child.kill('SIGHUP');
    await waitForLine(child, /"msg":"Reloaded\."/);
    await send('after');
    assert.equal(await stop(child), 0);
    const messages = (await readStore(join(dir.path, 'store'))).map((r) => r.message);
    assert.deepEqual(messages, ['after']);
    writeFileSync(config, 'rate-overrides:\n  - cidr: 10.0.0.0/8\n    rate-limt: 5\n');
    const bad = await runCli([
      'serve',
      '--tcp',
      '127.0.0.1:0',
      '--store',
      dir.path,
      '--config',
      config,
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /serve\.yaml: rate-overrides\.0/);
  } finally {
    await stop(child, 'SIGKILL');
    dir.cleanup();
  }
});
