// The worker side of split.ts: counts its range and posts the result.

import { parentPort, workerData } from 'node:worker_threads';
import { countRange, type SplitJob } from './split.js';

parentPort?.postMessage(await countRange(workerData as SplitJob));
