// The worker side of split.ts: counts the chunks it claims and posts the result.

import { parentPort, workerData } from 'node:worker_threads';
import { countChunks, type SplitJob } from './split.js';

parentPort?.postMessage(countChunks(workerData as SplitJob));
