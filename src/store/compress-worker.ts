// The compression worker thread: compresses the segments the writer names, one at a time,
// and replies with the sizes or the error.

import { parentPort } from 'node:worker_threads';
import { compressSegmentSync } from './compress-segment.js';

interface Job {
  dir: string;
  segment: string;
  level: number;
  idLimit: number;
}

parentPort?.on('message', (job: Job) => {
  try {
    const result = compressSegmentSync(job.dir, job.segment, job.level, job.idLimit);
    parentPort?.postMessage({ ok: true, result });
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: (err as Error).message });
  }
});
