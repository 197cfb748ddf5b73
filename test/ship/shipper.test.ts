import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createShipper } from '../../src/sinks/ship.js';
import { makeBatch } from '../../src/record/batch.js';
import {
  FrameDecoder,
  encodeFrame,
  encodePreamble,
  frameJson,
  jsonFrame,
} from '../../src/framing/frame.js';
import { tempDir } from '../helpers.js';
import { makeRecords, startFakeCollector, until } from './harness.js';

function numbers(records: Array<{ fields?: Record<string, unknown> }>): number[] {
  return records.map((r) => Number(r.fields?.n)).sort((a, b) => a - b);
}

test('ship - every codec delivers all records once and acks the input batches', async () => {
  const collector = await startFakeCollector();
  try {
    for (const compress of ['none', 'gzip', 'deflate', 'auto'] as const) {
      collector.records.length = 0;
      const shipper = createShipper({
        host: '127.0.0.1',
        port: collector.port,
        compress,
        level: 1,
        batchRecords: 300,
        source: compress,
      });
      let delivered = 0;
      for (let i = 0; i < 10; i++) {
        const batch = makeBatch(makeRecords(100, i * 100), 100 * 60, (o) => {
          if (o.status === 'delivered') delivered++;
        });
        await shipper.write(batch);
      }
      await shipper.flush();
      assert.deepEqual(numbers(collector.records), [...Array(1000).keys()], compress);
      assert.equal(delivered, 10);
      const status = shipper.status();
      assert.equal(status.recordsAcked, 1000);
      if (compress === 'gzip' || compress === 'deflate')
        assert.ok(status.wireBytes < status.rawBytes / 3);
      await shipper.close();
    }
  } finally {
    await collector.close();
  }
});

test('ship - a collector restart mid-run loses nothing and stores nothing twice', async () => {
  let collector = await startFakeCollector();
  const port = collector.port;
  const stored = collector;
  stored.appendDelayMs = 30;
  const shipper = createShipper({
    host: '127.0.0.1',
    port,
    batchRecords: 50,
    window: 4,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
  });
  try {
    const writes = (async () => {
      for (let i = 0; i < 40; i++) await shipper.write(makeBatch(makeRecords(50, i * 50), 3000));
    })();
    await until(() => stored.records.length >= 300);
    // Drop every connection while batches are in flight, and come back on the same port.
    await collector.close();
    collector = await startFakeCollector(port);
    // Share the store across the restart, as the real store is on disk.
    collector.records = stored.records;
    collector.batchIds = stored.batchIds;
    await writes;
    await shipper.flush();
    assert.deepEqual(numbers(stored.records), [...Array(2000).keys()]);
    assert.ok(shipper.status().retries > 0, 'batches in flight were resent');
  } finally {
    await shipper.close();
    await collector.close();
  }
});

test('ship - spooled batches survive a shipper restart and keep their identity', async () => {
  const dir = tempDir();
  const collector = await startFakeCollector();
  // Nothing listens here: the first shipper can only spool.
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  try {
    const first = createShipper({
      host: '127.0.0.1',
      port: deadPort,
      spoolDir: dir.path,
      batchRecords: 100,
      backoffInitialMs: 50,
    });
    let delivered = 0;
    for (let i = 0; i < 5; i++) {
      await first.write(makeBatch(makeRecords(100, i * 100), 6000, () => delivered++));
    }
    await until(() => delivered === 5); // settled by the disk spool, not the collector
    assert.equal(readdirSync(dir.path).filter((f) => f.endsWith('.batch')).length, 5);
    const id = first.shipperId;
    await first.close();
    const second = createShipper({ host: '127.0.0.1', port: collector.port, spoolDir: dir.path });
    assert.equal(second.shipperId, id);
    await second.write(makeBatch(makeRecords(100, 500), 6000));
    await second.flush();
    assert.deepEqual(numbers(collector.records), [...Array(600).keys()]);
    assert.equal(readdirSync(dir.path).filter((f) => f.endsWith('.batch')).length, 0);
    assert.ok([...collector.batchIds].every((b) => b.startsWith(`${id}/default/`)));
    await second.close();
  } finally {
    await collector.close();
    dir.cleanup();
  }
});

test('ship - drop-oldest bounds the spool and counts the drops', async () => {
  const shipper = createShipper({
    host: '127.0.0.1',
    port: 9, // discard port: nothing answers on loopback
    compress: 'none',
    batchRecords: 100,
    spoolMaxBytes: 30_000,
    whenFull: 'drop-oldest',
    backoffInitialMs: 1000,
  });
  const outcomes: string[] = [];
  for (let i = 0; i < 10; i++) {
    await shipper.write(makeBatch(makeRecords(100, i * 100), 6000, (o) => outcomes.push(o.status)));
  }
  const status = shipper.status();
  assert.ok(status.spoolBytes <= 30_000);
  assert.ok(status.droppedRecords > 0);
  assert.equal(outcomes.filter((o) => o === 'dropped').length * 100, status.droppedRecords);
  await shipper.close();
});

/** Speaks raw frames to the session and returns the first error frame's body. */
async function errorFor(port: number, frames: Buffer[]): Promise<Record<string, unknown>> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const decoder = new FrameDecoder({
    maxFrameBytes: 1 << 20,
    maxUncompressedBytes: 1 << 20,
    expectPreamble: true,
  });
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) if (f.type === 'error') resolve(frameJson(f));
    });
    socket.on('close', () => reject(new Error('closed without an error frame')));
    socket.write(Buffer.concat([encodePreamble(), ...frames]));
  });
}

test('ship - the session refuses a decompression bomb and a bad CRC with an error frame', async () => {
  const collector = await startFakeCollector(0, 4 << 20);
  try {
    const hello = jsonFrame('hello', { shipper_id: 'bomb', source: 's' });
    const bomb = gzipSync(Buffer.alloc(256 << 20), { level: 9 });
    const lying = encodeFrame({
      type: 'batch',
      codec: 'gzip',
      uncompressedBytes: 1 << 20,
      payload: bomb,
    });
    const rssBefore = process.memoryUsage().rss;
    const e1 = await errorFor(collector.port, [hello, lying]);
    assert.equal(e1.code, 'decompressed_too_large');
    assert.ok(process.memoryUsage().rss - rssBefore < 128 << 20, 'memory grew past the cap');
    const honest = encodeFrame({
      type: 'batch',
      codec: 'gzip',
      uncompressedBytes: 256 << 20,
      payload: bomb,
    });
    assert.equal((await errorFor(collector.port, [hello, honest])).code, 'batch_too_large');
    const bad = encodeFrame({ type: 'batch', payload: Buffer.from('{"message":"x"}\n') });
    bad[bad.length - 2] ^= 1;
    assert.equal((await errorFor(collector.port, [hello, bad])).code, 'crc_mismatch');
    assert.equal(collector.records.length, 0);
  } finally {
    await collector.close();
  }
});
