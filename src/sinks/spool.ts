// The shipper's spool: every batch waits here, already compressed, until the collector
// acknowledges it. In memory by default; with a directory, each batch is one fsynced file
// (written to a temporary name, then renamed) so a restarted shipper resends what was not
// acknowledged. The directory also keeps the shipper's identity and its sequence numbers,
// which must never be reused: a reused sequence would make the collector drop new records
// as repeats. Sequences are reserved on disk in blocks before they are handed out.
//
// Each entry also records how far into each input file its records reach. A file's checkpoint
// (written by the tailer after the spool took a batch) can lag behind the spool when the
// shipper is killed in between; the positions kept here, in entries and in positions.json for
// entries already acknowledged, let the next start resume past everything the spool held, so
// no line is read and sent again under a new identity.

import { randomUUID } from 'node:crypto';
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { syncDir } from '../sources/file/checkpoint.js';
import type { CheckpointPosition } from '../sources/file/options.js';
import { basename, join } from 'node:path';
import { ConfigError, IoError } from '../errors.js';
import { crc32 } from '../codec/crc32.js';
import type { CodecName } from '../framing/frame.js';

export type WhenFull = 'block' | 'drop-oldest';

export interface SpoolEntry {
  sequence: number;
  codec: CodecName;
  payload: Buffer;
  uncompressedBytes: number;
  records: number;
  /** Epoch ms when the batch entered the spool. */
  createdAt: number;
  /** How far into each input file the records of this batch (and those before it) reach. */
  positions?: CheckpointPosition[];
}

export interface SpoolOptions {
  /** Directory for a durable spool; absent means memory only. */
  dir?: string;
  /** Most bytes (compressed payloads) held. */
  maxBytes: number;
  whenFull: WhenFull;
  /** Called for each entry dropped to make room (drop-oldest). */
  onDrop?: (entry: SpoolEntry) => void;
}

const SEQUENCE_BLOCK = 10_000;
const STATE_FILE = 'state.json';
const POSITIONS_FILE = 'positions.json';
/** Files remembered in positions.json; the least recently advanced are forgotten first. */
const MAX_POSITIONS = 10_000;
const LOCK_FILE = 'lock';
const SUFFIX = '.batch';

interface State {
  shipper_id: string;
  /** Sequences below this may have been used; the next run starts here. */
  reserved_until: number;
}

export class Spool {
  readonly shipperId: string;
  private readonly entries = new Map<number, SpoolEntry>();
  private bytesHeld = 0;
  private next: number;
  private reservedUntil: number;
  private readonly waiters: Array<() => void> = [];
  /** Entries found on disk at open, from an earlier run. */
  readonly recovered: SpoolEntry[] = [];
  /** Files that could not be read at open (torn writes), moved aside. */
  readonly corrupt: string[] = [];
  /** Positions of acknowledged entries, as saved in positions.json (key dev:ino). */
  private readonly acked = new Map<string, CheckpointPosition>();
  private positionsWrite: Promise<void> = Promise.resolve();
  private positionsDirty = false;

  constructor(private readonly options: SpoolOptions) {
    if (!options.dir) {
      // Memory only: a new identity per process, so sequences can start at 0.
      this.shipperId = randomUUID();
      this.next = 0;
      this.reservedUntil = Number.MAX_SAFE_INTEGER;
      return;
    }
    const dir = options.dir;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new IoError(`spool ${dir}: cannot create: ${(err as Error).message}`, { cause: err });
    }
    this.lock(dir);
    const state = readState(dir);
    this.shipperId = state.shipper_id;
    this.next = state.reserved_until;
    this.reservedUntil = state.reserved_until;
    for (const p of readPositions(dir)) this.acked.set(positionKey(p), p);
    this.load(dir);
    for (const e of this.recovered) this.next = Math.max(this.next, e.sequence + 1);
    this.reserve();
  }

  get dir(): string | undefined {
    return this.options.dir;
  }

  get depth(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** createdAt of the oldest entry still held, or undefined when empty. */
  get oldestCreatedAt(): number | undefined {
    for (const e of this.entries.values()) return e.createdAt;
    return undefined;
  }

  /** The next batch sequence; never repeats, across restarts too when on disk. */
  nextSequence(): number {
    if (this.next >= this.reservedUntil) this.reserve();
    return this.next++;
  }

  /** True when an entry of `size` bytes would fit now. */
  fits(size: number): boolean {
    return this.bytesHeld + size <= this.options.maxBytes || this.entries.size === 0;
  }

  /**
   * Adds an entry, durably when on disk. When full: `block` waits until acks make room;
   * `drop-oldest` removes the oldest entries (reported through onDrop).
   */
  async put(entry: SpoolEntry): Promise<void> {
    const size = entry.payload.length;
    while (!this.fits(size)) {
      if (this.options.whenFull === 'drop-oldest') await this.dropOldest();
      else await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    // Counted before the write so that concurrent puts respect the bound.
    this.entries.set(entry.sequence, entry);
    this.bytesHeld += size;
    if (this.options.dir) await writeEntry(this.options.dir, entry);
  }

  /** Forgets an acknowledged entry and wakes producers waiting for room. */
  async remove(sequence: number): Promise<void> {
    const entry = this.entries.get(sequence);
    if (!entry) return;
    this.entries.delete(sequence);
    this.bytesHeld -= entry.payload.length;
    const dir = this.options.dir;
    if (dir) {
      // The entry's positions must stay on disk after the entry file is gone.
      if (entry.positions?.length) await this.savePositions(entry.positions);
      await unlink(entryPath(dir, sequence)).catch(() => {});
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * Per input file (key dev:ino), the furthest position of any batch this spool took, held
   * or already acknowledged: where the tailer may resume without reading anything twice.
   */
  spooledPositions(): CheckpointPosition[] {
    const out = new Map(this.acked);
    const held = [...this.entries.values()].sort((a, b) => a.sequence - b.sequence);
    for (const e of held) for (const p of e.positions ?? []) out.set(positionKey(p), p);
    return [...out.values()];
  }

  /** Merges positions into positions.json; concurrent calls share one write. */
  private savePositions(positions: CheckpointPosition[]): Promise<void> {
    for (const p of positions) {
      const key = positionKey(p);
      this.acked.delete(key); // re-inserted last: the map's order is least recent first
      this.acked.set(key, p);
    }
    while (this.acked.size > MAX_POSITIONS) {
      this.acked.delete(this.acked.keys().next().value as string);
    }
    if (this.positionsDirty) return this.positionsWrite;
    this.positionsDirty = true;
    const dir = this.options.dir as string;
    this.positionsWrite = this.positionsWrite.then(async () => {
      this.positionsDirty = false;
      await writeAtomic(dir, POSITIONS_FILE, [
        Buffer.from(JSON.stringify([...this.acked.values()]) + '\n'),
      ]);
    });
    return this.positionsWrite;
  }

  has(sequence: number): boolean {
    return this.entries.has(sequence);
  }

  /** Releases the directory lock. */
  close(): void {
    if (this.options.dir) {
      try {
        unlinkSync(join(this.options.dir, LOCK_FILE));
      } catch {
        // already gone
      }
    }
  }

  private async dropOldest(): Promise<void> {
    const oldest = this.entries.values().next().value as SpoolEntry;
    await this.remove(oldest.sequence);
    this.options.onDrop?.(oldest);
  }

  private reserve(): void {
    const dir = this.options.dir as string;
    this.reservedUntil = this.next + SEQUENCE_BLOCK;
    const state: State = { shipper_id: this.shipperId, reserved_until: this.reservedUntil };
    const tmp = join(dir, `${STATE_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify(state) + '\n', { flush: true });
    renameSync(tmp, join(dir, STATE_FILE));
  }

  private lock(dir: string): void {
    const path = join(dir, LOCK_FILE);
    try {
      const pid = Number(readFileSync(path, 'utf8'));
      if (pid && pid !== process.pid && processAlive(pid)) {
        throw new ConfigError(`spool ${dir}: in use by process ${pid}; give each shipper its own.`);
      }
    } catch (err) {
      if (err instanceof ConfigError) throw err;
    }
    writeFileSync(path, String(process.pid));
  }

  private load(dir: string): void {
    const names = readdirSync(dir).sort();
    for (const name of names) {
      if (name.endsWith('.tmp') && name !== `${STATE_FILE}.tmp`) {
        unlinkSync(join(dir, name)); // a write the last run did not finish; never acknowledged
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const entry = readEntry(join(dir, name));
      if (!entry) {
        renameSync(join(dir, name), join(dir, `${name}.corrupt`));
        this.corrupt.push(name);
        continue;
      }
      this.entries.set(entry.sequence, entry);
      this.bytesHeld += entry.payload.length;
      this.recovered.push(entry);
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readState(dir: string): State {
  try {
    const state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as State;
    if (typeof state.shipper_id === 'string' && Number.isSafeInteger(state.reserved_until)) {
      return state;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new IoError(`spool ${dir}: ${STATE_FILE} is unreadable: ${(err as Error).message}`);
    }
  }
  return { shipper_id: randomUUID(), reserved_until: 0 };
}

function entryPath(dir: string, sequence: number): string {
  return join(dir, `${String(sequence).padStart(16, '0')}${SUFFIX}`);
}

/** File layout: one JSON header line, then the payload bytes. */
async function writeEntry(dir: string, entry: SpoolEntry): Promise<void> {
  const header = {
    sequence: entry.sequence,
    codec: entry.codec,
    uncompressed_bytes: entry.uncompressedBytes,
    records: entry.records,
    created_at: entry.createdAt,
    payload_bytes: entry.payload.length,
    crc32: crc32(entry.payload),
    positions: entry.positions,
  };
  const name = basename(entryPath(dir, entry.sequence));
  await writeAtomic(dir, name, [Buffer.from(JSON.stringify(header) + '\n'), entry.payload]);
}

/**
 * Writes a file atomically and durably: temporary name, fsync, rename, then an fsync of the
 * directory (without it the rename may not survive a power loss, only a crash).
 */
async function writeAtomic(dir: string, name: string, parts: Buffer[]): Promise<void> {
  const path = join(dir, name);
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writev(parts);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  await syncDir(dir);
}

function positionKey(p: { dev: number; ino: number }): string {
  return `${p.dev}:${p.ino}`;
}

function isPosition(v: unknown): v is CheckpointPosition {
  const p = v as CheckpointPosition;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.path === 'string' &&
    Number.isSafeInteger(p.dev) &&
    Number.isSafeInteger(p.ino) &&
    Number.isSafeInteger(p.offset) &&
    typeof p.fingerprint === 'object' &&
    p.fingerprint !== null &&
    Number.isSafeInteger(p.fingerprint.bytes) &&
    typeof p.fingerprint.hash === 'string'
  );
}

/** positions.json of an earlier run; a missing or torn file holds nothing. */
function readPositions(dir: string): CheckpointPosition[] {
  try {
    const value: unknown = JSON.parse(readFileSync(join(dir, POSITIONS_FILE), 'utf8'));
    return Array.isArray(value) ? value.filter(isPosition) : [];
  } catch {
    return [];
  }
}

function readEntry(path: string): SpoolEntry | undefined {
  try {
    const bytes = readFileSync(path);
    const nl = bytes.indexOf(0x0a);
    const h = JSON.parse(bytes.subarray(0, nl).toString('utf8')) as Record<string, unknown>;
    const payload = bytes.subarray(nl + 1);
    if (payload.length !== h.payload_bytes || crc32(payload) !== h.crc32) return undefined;
    return {
      sequence: Number(h.sequence),
      codec: h.codec as CodecName,
      payload,
      uncompressedBytes: Number(h.uncompressed_bytes),
      records: Number(h.records),
      createdAt: Number(h.created_at),
      positions: Array.isArray(h.positions) ? h.positions.filter(isPosition) : undefined,
    };
  } catch {
    return undefined;
  }
}
