// Group commit under --fsync interval and always: blocks are written while an fsync runs, and a batch is
// acknowledged only after an fsync that began once its block was written. The test watches
// every fdatasync of the segment file (how far the file reached when it began) and checks each
// acknowledgement against the end offset of its block.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fstatSync, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { openStoreWriter } from '../../src/store/index.js';
import { readBlock } from '../../src/store/format.js';
import { FILE_HEADER_BYTES } from '../../src/store/scan.js';
import type { LogRecord } from '../../src/record/record.js';

const BASE = Date.parse('2026-03-01T00:00:00.000Z');

function batch(k: number, n: number): LogRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(BASE + (k * n + i) * 10).toISOString(),
    level: 'info',
    severity: 9,
    message: `batch ${k} record ${i} ${'x'.repeat(100)}`,
    format: 'json',
  }));
}

for (const fsync of ['interval', 'always'] as const) {
  test(`store - under fsync ${fsync} a batch is acknowledged only after an fsync begun once it was written`, async () => {
    const tmp = tempDir('sluice-store-durable-');
    const probe = await fsp.open(join(tmp.path, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const datasync = proto.datasync;
    let syncs = 0;
    let durableUpTo = 0;
    proto.datasync = async function (this: FileHandle) {
      const reached = fstatSync(this.fd).size;
      await datasync.call(this);
      syncs++;
      durableUpTo = Math.max(durableUpTo, reached);
    };
    try {
      const dir = join(tmp.path, 'store');
      const w = await openStoreWriter(dir, {
        compression: 'none',
        fsync,
        fsyncIntervalMs: 60_000,
        fsyncIntervalBytes: 32 * 1024,
      });
      const batches = 60;
      const ackedAt: number[] = [];
      const acks: Array<Promise<unknown>> = [];
      for (let k = 0; k < batches; k++) {
        acks.push(w.append(batch(k, 200)).then(() => (ackedAt[k] = durableUpTo)));
        // Let some writes and fsyncs start between appends, so they overlap.
        if (k % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(acks);
      const segment = w.stats().activeSegment;
      await w.close();
      // One block per batch, in append order: block k ends where batch k's bytes end.
      const file = await fsp.readFile(join(dir, `${segment}.seg`));
      let at = FILE_HEADER_BYTES;
      for (let k = 0; k < batches; k++) {
        const r = readBlock(file, at, 0);
        assert.equal(r.kind, 'block');
        if (r.kind !== 'block') return;
        at += r.block.length;
        assert.ok(
          ackedAt[k] >= at,
          `batch ${k} (ending at ${at}) acknowledged when fsyncs covered ${ackedAt[k]} bytes`,
        );
      }
      assert.ok(syncs >= 3, `expected several fsyncs, saw ${syncs}`);
    } finally {
      proto.datasync = datasync;
      tmp.cleanup();
    }
  });
}
