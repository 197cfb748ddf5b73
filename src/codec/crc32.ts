// CRC-32 (IEEE 802.3, the zlib/gzip polynomial) over a buffer, chainable through `prev` so a
// checksum can be carried across several buffers. zlib.crc32 (Node >= 20.15) is native; older
// Node falls back to a table-driven loop.

import * as zlib from 'node:zlib';

type NativeCrc = (data: Uint8Array, value?: number) => number;
const native = (zlib as unknown as { crc32?: NativeCrc }).crc32;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

function tableCrc32(buf: Uint8Array, prev: number): number {
  table ??= makeTable();
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < buf.length; i++) c = table[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of `buf`, continuing from `prev` (the CRC of the bytes before it; 0 to start). */
export function crc32(buf: Uint8Array, prev = 0): number {
  return native ? native(buf, prev) >>> 0 : tableCrc32(buf, prev);
}
