// Which client addresses sent the most in the last window: the collector exports the top few as
// labelled gauges, so a Prometheus series exists only for them and the label set stays bounded
// however many clients connect. The window's table itself is bounded too: past maxAddresses
// distinct addresses in one window, further newcomers are counted only in the totals.

export interface Talker {
  address: string;
  /** Records received from the address in the window. */
  records: number;
  /** Records of the address dropped (rate limit, level filter, ...) in the window. */
  dropped: number;
}

export class TopTalkers {
  private table = new Map<string, Talker>();
  /** Records from addresses that found the table full in this window. */
  untracked = 0;

  constructor(private readonly maxAddresses = 10_000) {}

  received(address: string, records: number): void {
    const t = this.entry(address);
    if (t) t.records += records;
    else this.untracked += records;
  }

  dropped(address: string, records: number): void {
    const t = this.entry(address);
    if (t) t.dropped += records;
  }

  /** The `n` addresses with the most records in the window (ties: most dropped); resets it. */
  take(n: number): Talker[] {
    const all = [...this.table.values()];
    this.table = new Map();
    this.untracked = 0;
    all.sort((a, b) => b.records - a.records || b.dropped - a.dropped);
    return all.slice(0, n);
  }

  private entry(address: string): Talker | undefined {
    let t = this.table.get(address);
    if (t === undefined) {
      if (this.table.size >= this.maxAddresses) return undefined;
      t = { address, records: 0, dropped: 0 };
      this.table.set(address, t);
    }
    return t;
  }
}
