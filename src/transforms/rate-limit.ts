// Per-client rate limiting: one token bucket per source IP address, in records per second
// with a burst allowance, and per-network overrides (CIDR → rate). The table of buckets is an
// LRU bounded by maxClients, so 100k distinct source addresses cannot grow memory without
// limit; an evicted client starts again with a full bucket.

import { BlockList, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.js';

/** Records per second and burst size; ratePerSec Infinity means unlimited. */
export interface RateRule {
  ratePerSec: number;
  burst: number;
}

export interface RateOverride extends RateRule {
  cidr: string;
}

export interface RateLimiterOptions {
  /** The rule for clients that no override matches; undefined means unlimited. */
  defaultRule?: RateRule;
  /** Per-network rules; the longest matching prefix wins. */
  overrides?: RateOverride[];
  /** Most buckets kept at once (LRU). */
  maxClients?: number;
}

export interface Grant {
  /** How many of the asked records may pass now (drop policy). */
  granted: number;
  /** How long the client should wait before sending more (slow policy), 0 when in budget. */
  waitMs: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
  rule: RateRule;
  /** Until when the client counts as rate-limited, for the gauge. */
  limitedUntilMs: number;
}

interface CompiledOverride {
  rule: RateRule;
  prefix: number;
  list: BlockList;
}

const UNLIMITED: RateRule = { ratePerSec: Infinity, burst: Infinity };

/** Strips the IPv4-mapped IPv6 prefix so that ::ffff:10.0.0.1 and 10.0.0.1 are one client. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private defaultRule: RateRule = UNLIMITED;
  private overrides: CompiledOverride[] = [];
  private readonly maxClients: number;

  constructor(options: RateLimiterOptions = {}) {
    this.maxClients = options.maxClients ?? 100_000;
    this.setRules(options);
  }

  /**
   * New rules (a config reload) without forgetting clients: every bucket keeps its tokens,
   * capped at the burst of the rule that now applies to its address, so a client that was
   * held back is not handed a fresh burst by a SIGHUP.
   */
  reconfigure(
    options: Pick<RateLimiterOptions, 'defaultRule' | 'overrides'>,
    nowMs = Date.now(),
  ): void {
    this.setRules(options);
    for (const [ip, b] of this.buckets) {
      // Tokens earned so far are earned under the old rule.
      const elapsed = Math.max(0, nowMs - b.updatedMs) / 1000;
      if (b.rule.ratePerSec !== Infinity) {
        b.tokens = Math.min(b.rule.burst, b.tokens + elapsed * b.rule.ratePerSec);
      }
      b.updatedMs = nowMs;
      b.rule = this.ruleFor(ip);
      b.tokens = Math.min(b.tokens, b.rule.burst);
    }
  }

  private setRules(options: Pick<RateLimiterOptions, 'defaultRule' | 'overrides'>): void {
    // Compile first: a bad CIDR throws before anything changes.
    const overrides = (options.overrides ?? []).map(compileOverride);
    overrides.sort((a, b) => b.prefix - a.prefix);
    this.overrides = overrides;
    this.defaultRule = options.defaultRule ?? UNLIMITED;
  }

  /** The rule that applies to an address. */
  ruleFor(address: string): RateRule {
    const ip = normalizeAddress(address);
    const type = isIPv6(ip) ? 'ipv6' : 'ipv4';
    for (const o of this.overrides) if (o.list.check(ip, type)) return o.rule;
    return this.defaultRule;
  }

  /** True when no client of this limiter is ever limited. */
  get unlimited(): boolean {
    return (
      this.defaultRule.ratePerSec === Infinity &&
      this.overrides.every((o) => o.rule.ratePerSec === Infinity)
    );
  }

  /**
   * Takes `count` tokens for the client. The slow policy takes them all and reports the wait
   * that pays back the debt; the drop policy takes only what is there.
   */
  take(address: string, count: number, policy: 'slow' | 'drop', nowMs = Date.now()): Grant {
    const bucket = this.bucket(normalizeAddress(address), nowMs);
    const { ratePerSec } = bucket.rule;
    if (ratePerSec === Infinity) return { granted: count, waitMs: 0 };
    if (policy === 'drop') {
      const granted = Math.max(0, Math.min(count, Math.floor(bucket.tokens)));
      bucket.tokens -= granted;
      if (granted < count) bucket.limitedUntilMs = nowMs + 1000;
      return { granted, waitMs: 0 };
    }
    bucket.tokens -= count;
    if (bucket.tokens >= 0) return { granted: count, waitMs: 0 };
    const waitMs = Math.ceil((-bucket.tokens / ratePerSec) * 1000);
    bucket.limitedUntilMs = nowMs + waitMs + 1000;
    return { granted: count, waitMs };
  }

  /** Clients limited within the last second (or still waiting): the rate-limited gauge. */
  limitedClients(nowMs = Date.now()): number {
    let n = 0;
    for (const b of this.buckets.values()) if (b.limitedUntilMs > nowMs) n++;
    return n;
  }

  get size(): number {
    return this.buckets.size;
  }

  private bucket(ip: string, nowMs: number): Bucket {
    let b = this.buckets.get(ip);
    if (b) {
      // Re-insert to keep Map order = least recently used first.
      this.buckets.delete(ip);
      const elapsed = Math.max(0, nowMs - b.updatedMs) / 1000;
      b.tokens = Math.min(b.rule.burst, b.tokens + elapsed * b.rule.ratePerSec);
      b.updatedMs = nowMs;
    } else {
      const rule = this.ruleFor(ip);
      b = { tokens: rule.burst, updatedMs: nowMs, rule, limitedUntilMs: 0 };
      if (this.buckets.size >= this.maxClients) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(ip, b);
    return b;
  }
}

function compileOverride(o: RateOverride): CompiledOverride {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(o.cidr.trim());
  const ip = m ? normalizeAddress(m[1]) : '';
  const type = isIPv6(ip) ? 'ipv6' : 'ipv4';
  const prefix = m ? Number(m[2]) : -1;
  const list = new BlockList();
  try {
    if (prefix < 0 || prefix > (type === 'ipv6' ? 128 : 32)) throw new RangeError('prefix');
    list.addSubnet(ip, prefix, type);
  } catch {
    throw new ConfigError(`rate override: "${o.cidr}" is not a CIDR like 10.0.0.0/8 or ::1/128.`);
  }
  return { rule: { ratePerSec: o.ratePerSec, burst: o.burst }, prefix, list };
}

/** Parses "1000/s", "60/m", "1000" (per second) into records per second. */
export function parseRate(text: string, what = '--rate-limit'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute|h|hour))?\s*$/.exec(text);
  if (!m || Number(m[1]) <= 0) {
    throw new ConfigError(`${what}: "${text}" is not a rate; use e.g. 1000/s, 600/m.`);
  }
  const per = m[2]?.[0] ?? 's';
  return Number(m[1]) / (per === 's' ? 1 : per === 'm' ? 60 : 3600);
}
