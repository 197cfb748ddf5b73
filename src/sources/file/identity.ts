// File identity: device and inode, plus a fingerprint of the first bytes. Inodes are reused
// by the file system once a file is deleted, and a copytruncate leaves the inode unchanged
// while replacing the content, so the inode alone cannot tell an old file from a new one.

import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export interface Fingerprint {
  /** How many leading bytes the hash covers: up to the fingerprint size, fewer while shorter. */
  bytes: number;
  /** sha256 of those bytes, hex, first 32 characters. */
  hash: string;
}

export interface FileIdentity {
  dev: number;
  ino: number;
  fingerprint: Fingerprint;
}

export function identityKey(id: { dev: number; ino: number }): string {
  return `${id.dev}:${id.ino}`;
}

export function hashPrefix(head: Buffer, bytes: number): string {
  return createHash('sha256').update(head.subarray(0, bytes)).digest('hex').slice(0, 32);
}

/** Reads up to `maxBytes` from the start of an open file: the fingerprint region. */
export async function readHead(handle: FileHandle, maxBytes: number): Promise<Buffer> {
  const buf = Buffer.alloc(maxBytes);
  let filled = 0;
  while (filled < maxBytes) {
    const { bytesRead } = await handle.read(buf, filled, maxBytes - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buf.subarray(0, filled);
}

export function fingerprintOf(head: Buffer): Fingerprint {
  return { bytes: head.length, hash: hashPrefix(head, head.length) };
}

/**
 * True when `head` (the current first bytes of a file) starts with the content a stored
 * fingerprint describes. A file shorter than the stored region cannot be the same content.
 */
export function headMatches(head: Buffer, fp: Fingerprint): boolean {
  if (head.length < fp.bytes) return false;
  return hashPrefix(head, fp.bytes) === fp.hash;
}
