// An in-process collector for the ship tests: a real TCP server that hands every connection
// to the frame session, with an in-memory store that dedupes by batch id like the real one.

import * as net from 'node:net';
import { pino } from 'pino';
import type { ProtocolContext, AppendResult } from '../../src/framing/detect.js';
import type { LogRecord } from '../../src/record/record.js';
import { runFrameSession, DEFAULT_SESSION_LIMITS } from '../../src/net/frame-session.js';

export interface FakeCollector {
  port: number;
  records: LogRecord[];
  batchIds: Set<string>;
  duplicates: number;
  rejects: Array<{ reason: string; detail: string }>;
  /** When set, records are only tallied by fields.n here instead of kept (big runs). */
  tally?: Map<number, number>;
  /** Delay of every append, to simulate a slow store. */
  appendDelayMs: number;
  close(): Promise<void>;
}

export async function startFakeCollector(port = 0, maxBatchBytes?: number): Promise<FakeCollector> {
  const sockets = new Set<net.Socket>();
  const state: FakeCollector = {
    port: 0,
    records: [],
    batchIds: new Set(),
    duplicates: 0,
    rejects: [],
    appendDelayMs: 0,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const logger = pino({ level: 'silent' });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const ctx: ProtocolContext = {
      peer: `tcp://${socket.remoteAddress}:${socket.remotePort}`,
      remoteAddress: socket.remoteAddress ?? '',
      maxFrameBytes: 1 << 20,
      logger,
      async append(records, options): Promise<AppendResult> {
        if (state.appendDelayMs) await new Promise((r) => setTimeout(r, state.appendDelayMs));
        const id = options?.batchId;
        if (id && state.batchIds.has(id)) {
          state.duplicates++;
          return { stored: 0, duplicate: true };
        }
        if (id) state.batchIds.add(id);
        if (state.tally) {
          for (const r of records) {
            const n = Number(r.fields?.n);
            state.tally.set(n, (state.tally.get(n) ?? 0) + 1);
          }
        } else state.records.push(...records);
        return { stored: records.length, duplicate: false };
      },
      admit: async (records) => records,
      received: () => {},
      dropped: () => {},
      reject: (reason, detail) => state.rejects.push({ reason, detail }),
    };
    void runFrameSession(socket, Buffer.alloc(0), ctx, {
      ...DEFAULT_SESSION_LIMITS,
      ...(maxBatchBytes ? { maxBatchBytes, maxFrameBytes: maxBatchBytes } : {}),
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

export function makeRecords(n: number, from = 0): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({
      timestamp: new Date(1_700_000_000_000 + i).toISOString(),
      level: 'info',
      severity: 9,
      message: `GET /item/${i} HTTP/1.1 200 ${i % 977}`,
      format: 'text',
      fields: { n: i },
    });
  }
  return out;
}

export async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
