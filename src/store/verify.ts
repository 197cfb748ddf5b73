// `store verify`: checks every block checksum, every payload and every index against its data
// file, and lists each problem with its file and offset. Read-only; safe beside a writer.

import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { decodeJson } from '../record/json.js';
import {
  BLOCK_FLAG_GZIP,
  BLOCK_FLAG_SORTED,
  FILE_FLAG_COMPRESSED,
  FILE_HEADER_BYTES,
  fileHeader,
} from './format.js';
import { blockPayload, findNextBlock, lineTimestamp, readFileHeader, scanBlocks } from './scan.js';
import { SegmentStats, hex } from './segment-index.js';
import { listSegments, type SegmentInfo } from './segments.js';

export interface VerifyProblem {
  file: string;
  offset?: number;
  problem: string;
}

export interface VerifyReport {
  segments: number;
  blocks: number;
  records: number;
  problems: VerifyProblem[];
}

export async function verifyStore(dir: string): Promise<VerifyReport> {
  const report: VerifyReport = { segments: 0, blocks: 0, records: 0, problems: [] };
  for (const s of await listSegments(dir)) {
    report.segments++;
    await verifySegment(s, report);
  }
  return report;
}

async function verifySegment(s: SegmentInfo, report: VerifyReport): Promise<void> {
  const file = s.path;
  const problem = (p: string, offset?: number) =>
    report.problems.push({ file, offset, problem: p });
  if (s.indexProblem) problem(s.indexProblem);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err) {
    problem(`cannot open: ${(err as Error).message}`);
    return;
  }
  try {
    const size = (await fh.stat()).size;
    const header = await readFileHeader(fh);
    if (!header.ok) {
      problem(header.problem, 0);
      return;
    }
    const compressed = (header.flags & FILE_FLAG_COMPRESSED) !== 0;
    const stats = new SegmentStats(0, fileHeader(header.flags));
    const blockStarts = new Set<number>();
    let at = FILE_HEADER_BYTES;
    for (;;) {
      const scan = scanBlocks(fh, at, size);
      let r = await scan.next();
      while (!r.done) {
        const b = r.value;
        blockStarts.add(b.offset);
        stats.addBlock(b.offset, b, b.crc);
        report.blocks++;
        report.records += b.records;
        checkPayload(b, compressed, problem);
        r = await scan.next();
      }
      const end = r.value;
      if (end.reason === 'eof') break;
      if (end.reason === 'incomplete') {
        if (s.state !== 'active') problem('torn block at the end of the file', end.offset);
        break;
      }
      problem(end.problem, end.offset);
      const next = await findNextBlock(fh, end.offset, size);
      if (next < 0) break;
      at = next;
    }
    if (s.index) checkIndex(s, stats, blockStarts, size, problem);
  } finally {
    await fh.close();
  }
}

function checkPayload(
  b: Parameters<typeof blockPayload>[0],
  compressed: boolean,
  problem: (p: string, offset?: number) => void,
): void {
  if (((b.flags & BLOCK_FLAG_GZIP) !== 0) !== compressed) {
    problem('block compression flag does not match the file header', b.offset);
  }
  let text: string;
  try {
    text = blockPayload(b).toString('utf8');
  } catch (err) {
    problem(`payload does not decompress: ${(err as Error).message}`, b.offset);
    return;
  }
  const lines = text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
  if (lines.length !== b.records) {
    problem(`block holds ${lines.length} lines, its header says ${b.records}`, b.offset);
  }
  let prevTs = -Infinity;
  for (const line of lines) {
    try {
      decodeJson(line);
    } catch {
      problem('block holds a line that is not JSON', b.offset);
      return;
    }
    const ts = lineTimestamp(line);
    if (!(ts >= b.minTs && ts <= b.maxTs)) {
      problem('a record time is outside its block time range', b.offset);
      return;
    }
    if (b.flags & BLOCK_FLAG_SORTED && ts < prevTs) {
      problem('a block marked in time order holds records out of order', b.offset);
      return;
    }
    prevTs = ts;
  }
}

function checkIndex(
  s: SegmentInfo,
  stats: SegmentStats,
  blockStarts: Set<number>,
  size: number,
  problem: (p: string, offset?: number) => void,
): void {
  const index = s.index!;
  const where = `index ${basename(s.name)}.idx`;
  if (index.storedBytes !== size) {
    problem(`${where} says ${index.storedBytes} bytes, the file has ${size}`);
  }
  if (index.records !== stats.records) {
    problem(`${where} says ${index.records} records, the blocks hold ${stats.records}`);
  }
  if (index.blocks !== stats.blocks) {
    problem(`${where} says ${index.blocks} blocks, the file has ${stats.blocks}`);
  }
  if (index.checksum !== hex(stats.checksum)) {
    problem(`${where} checksum ${index.checksum} does not match ${hex(stats.checksum)}`);
  }
  const levelTotal = Object.values(index.levels).reduce((a, b) => a + b, 0);
  if (levelTotal !== index.records) {
    problem(`${where} counts ${levelTotal} records by level, not ${index.records}`);
  }
  if (stats.records > 0 && (index.firstTs !== stats.minTs || index.lastTs !== stats.maxTs)) {
    problem(`${where} time range does not match the blocks`);
  }
  for (const [offset] of index.entries) {
    if (!blockStarts.has(offset)) problem(`${where} entry points at no block`, offset);
  }
}
