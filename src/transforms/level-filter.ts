// The level filter transform: keeps records at or above a minimum level (--min-level) and
// counts the rest, so a filtered record is "delivered by policy", never silently lost.

import { LEVEL_RANK, type Level, type LogRecord } from '../record/record.js';

export interface LevelFilterResult {
  kept: LogRecord[];
  /** Records below the minimum level. */
  dropped: number;
}

export interface LevelFilter {
  readonly minLevel: Level;
  filter(records: LogRecord[]): LevelFilterResult;
}

export function createLevelFilter(minLevel: Level = 'trace'): LevelFilter {
  const min = LEVEL_RANK[minLevel];
  return {
    minLevel,
    filter(records) {
      if (min === 0) return { kept: records, dropped: 0 };
      const kept: LogRecord[] = [];
      for (const r of records) if (LEVEL_RANK[r.level] >= min) kept.push(r);
      return { kept, dropped: records.length - kept.length };
    },
  };
}
