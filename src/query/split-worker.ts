// The worker side of split.ts: counts the chunks it claims and posts the result, or posts the
// candidate lines of each chunk it claims.

import { parentPort, workerData } from 'node:worker_threads';
import { countChunks, levelChunks, type LevelJob, type SplitJob } from './split.js';

const job = workerData as SplitJob | LevelJob;
if (job.kind === 'count') parentPort?.postMessage(countChunks(job));
else levelChunks(job, (chunk) => parentPort?.postMessage(chunk));
