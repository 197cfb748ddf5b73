// Merging the spool's file positions into the tailer's checkpoints (exactly once across a
// shipper kill): the further offset wins unless the file's content changed since.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { CheckpointStore } from '../../src/sources/file/checkpoint.js';
import { mergeSpooledPositions } from '../../src/sinks/spool-positions.js';
import { Spool } from '../../src/sinks/spool.js';

const fp = (bytes: number, hash: string) => ({ bytes, hash });

test('spool positions - the further offset wins, changed content keeps the checkpoint', async () => {
  const dir = tempDir();
  try {
    const store = new CheckpointStore(dir.path);
    await store.save([
      { path: '/a.log', dev: 1, ino: 10, fingerprint: fp(1024, 'aa'), offset: 500 },
      { path: '/b.log', dev: 1, ino: 11, fingerprint: fp(1024, 'bb'), offset: 900 },
      { path: '/c.log', dev: 1, ino: 12, fingerprint: fp(1024, 'new'), offset: 10 },
    ]);
    const report = await mergeSpooledPositions(dir.path, [
      { path: '/a.log', dev: 1, ino: 10, fingerprint: fp(1024, 'aa'), offset: 800 },
      { path: '/b.log', dev: 1, ino: 11, fingerprint: fp(1024, 'bb'), offset: 700 },
      { path: '/c.log', dev: 1, ino: 12, fingerprint: fp(1024, 'old'), offset: 5000 },
      { path: '/d.log', dev: 1, ino: 13, fingerprint: fp(64, 'dd'), offset: 64 },
    ]);
    assert.deepEqual(report, { advanced: 1, added: 1 });
    const state = await new CheckpointStore(dir.path).load();
    const offsets = Object.fromEntries(state!.files.map((f) => [f.path, f.offset]));
    assert.deepEqual(offsets, { '/a.log': 800, '/b.log': 900, '/c.log': 10, '/d.log': 64 });
  } finally {
    dir.cleanup();
  }
});

test('spool positions - kept in entries, and in positions.json once entries are acknowledged', async () => {
  const dir = tempDir();
  try {
    const spool = new Spool({ dir: dir.path, maxBytes: 1 << 20, whenFull: 'block' });
    const entry = (sequence: number, offset: number) => ({
      sequence,
      codec: 'none' as const,
      payload: Buffer.from('{}\n'),
      uncompressedBytes: 3,
      records: 1,
      createdAt: Date.now(),
      positions: [{ path: '/a.log', dev: 1, ino: 10, fingerprint: fp(10, 'aa'), offset }],
    });
    await spool.put(entry(spool.nextSequence(), 100));
    await spool.put(entry(spool.nextSequence(), 200));
    await spool.remove(0);
    assert.equal(spool.spooledPositions()[0].offset, 200);
    spool.close();
    // A restart: entry 1 is recovered from its file, entry 0's position from positions.json.
    const again = new Spool({ dir: dir.path, maxBytes: 1 << 20, whenFull: 'block' });
    assert.equal(again.recovered.length, 1);
    assert.equal(again.spooledPositions()[0].offset, 200);
    await again.remove(1);
    again.close();
    const saved = JSON.parse(readFileSync(join(dir.path, 'positions.json'), 'utf8'));
    assert.equal(saved[0].offset, 200);
  } finally {
    dir.cleanup();
  }
});
