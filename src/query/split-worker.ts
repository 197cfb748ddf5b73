// The worker side of split.ts and split-level.ts: counts the chunks it claims and posts the
// result, or posts the candidate lines of each chunk it claims. Each job loads only its own
// modules (a count needs neither the prefilter nor the record filter).

import { parentPort, workerData } from 'node:worker_threads';
import type { SplitJob } from './split.js';
import type { LevelJob } from './split-level.js';

const job = workerData as SplitJob | LevelJob;
if (job.kind === 'count') {
  const { countChunks } = await import('./split.js');
  parentPort?.postMessage(countChunks(job));
} else {
  const { levelChunks } = await import('./split-level.js');
  levelChunks(job, (chunk) => parentPort?.postMessage(chunk));
}
