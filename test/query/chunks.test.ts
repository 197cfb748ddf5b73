// Two threads reading one file chunk by chunk must read every line exactly once, whatever the
// line lengths (lines longer than a chunk included), and never claim the same chunk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ChunkClaims, MAIN, WORKER, chunkOwners, chunkRange } from '../../src/query/chunks.js';
import { BlockAssembler, rangeBlocks } from '../../src/query/read.js';
import { tempDir } from '../helpers.js';

test('query chunks - the chunks of a file hold each of its lines once, in order', () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'lines.log');
    fc.assert(
      fc.property(
        fc.array(fc.nat(300), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 97 }),
        (lengths, lastNewline, chunkBytes) => {
          const lines = lengths.map((n, i) => String.fromCharCode(97 + (i % 26)).repeat(n));
          const text = lines.join('\n') + (lastNewline ? '\n' : '');
          writeFileSync(file, text);
          const size = Buffer.byteLength(text);
          const fd = openSync(file, 'r');
          try {
            const owners = chunkOwners(size, chunkBytes);
            const seen: string[] = [];
            const assembler = new BlockAssembler(1024 * 1024);
            let at = 0;
            for (let k = 0; k < owners.length; k++) {
              const range = chunkRange(fd, size, k, chunkBytes);
              if (range.from >= range.to) continue;
              assert.equal(range.from, at, 'chunks follow each other without gap or overlap');
              at = range.to;
              for (const block of rangeBlocks(fd, assembler, range)) {
                seen.push(block.buf.toString('latin1', 0, block.end));
              }
            }
            assert.equal(at, size);
            assert.equal(seen.join(''), text);
          } finally {
            closeSync(fd);
          }
        },
      ),
      { numRuns: 200 },
    );
  } finally {
    dir.cleanup();
  }
});

test('query chunks - two claimers never take the same chunk and together take all', () => {
  const owners = chunkOwners(1000, 7);
  const main = new ChunkClaims(owners, MAIN);
  const worker = new ChunkClaims(owners, WORKER);
  const taken: number[] = [];
  for (let turn = 0; ; turn++) {
    const k = (turn % 3 === 0 ? worker : main).claim();
    if (k < 0) break;
    taken.push(k);
  }
  assert.equal(main.claim(), -1);
  assert.equal(worker.claim(), -1);
  assert.deepEqual(
    [...taken].sort((a, b) => a - b),
    Array.from({ length: owners.length }, (_, i) => i),
  );
  assert.ok(owners.every((o) => o === MAIN || o === WORKER));
  assert.ok(owners.includes(WORKER) && owners.includes(MAIN));
});
