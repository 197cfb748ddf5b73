// The store: crash-safe segment files with rotation, compression, retention and an index.
// Public API for the collector, the capture service, the query engine and the inspector.

export { openStoreWriter, StoreWriter } from './writer.js';
export type { AppendOptions, AppendResult, StoreWriterStats } from './writer.js';
export { openStoreReader, StoreReader } from './reader.js';
export type { StoreReaderOptions } from './reader.js';
export { listSegments } from './segments.js';
export type { SegmentInfo, SegmentState } from './segments.js';
export type { SegmentIndex, IndexEntry } from './segment-index.js';
export { defaultStoreOptions, resolveStoreOptions } from './options.js';
export type { StoreOptions, Compression, FsyncPolicy } from './options.js';
export { planRetention } from './retention.js';
export type { RetentionPlan, RetentionRemoval, RetentionPolicy } from './retention.js';
export type { RecoveryReport } from './recovery.js';
export { verifyStore } from './verify.js';
export type { VerifyProblem, VerifyReport } from './verify.js';
export { storeStats } from './stats.js';
export type { StoreStats } from './stats.js';
export { acquireLock, lockHolder } from './lock.js';
export { applyRetention } from './retention.js';
