// `sluice serve` when it cannot start (a busy --tcp or --metrics port): it exits 2 naming the
// address, and leaves the store as it found it (no LOCK, no empty segment), so that a second
// attempt fails the same way instead of taking over a lock and hanging.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.js';

async function busyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  return { server, port: addr.port };
}

for (const flag of ['--tcp', '--metrics'] as const) {
  test(`serve - a busy ${flag} port exits 2 and releases the store, twice`, async () => {
    const tmp = tempDir();
    const { server, port } = await busyPort();
    try {
      const store = join(tmp.path, 'ss');
      const args =
        flag === '--tcp'
          ? ['serve', '--tcp', `127.0.0.1:${port}`, '--store', store]
          : ['serve', '--tcp', '127.0.0.1:0', '--metrics', `127.0.0.1:${port}`, '--store', store];
      for (let attempt = 1; attempt <= 2; attempt++) {
        const r = await runCli(args, { timeoutMs: 20_000 });
        assert.equal(r.code, 2, `attempt ${attempt}: ${r.signal ?? ''} ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`sluice serve: .*127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
        assert.doesNotMatch(r.stderr, /stale store lock/);
        const left = await fsp.readdir(store);
        assert.deepEqual(
          left.filter((n) => n === 'LOCK' || n.endsWith('.seg')),
          [],
        );
      }
    } finally {
      server.close();
      tmp.cleanup();
    }
  });
}
