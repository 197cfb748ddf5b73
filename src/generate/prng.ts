// The generator's random numbers: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator,
// 128-bit state), written out here because Math.random cannot be seeded and the same --seed
// must give the same bytes on every machine and Node version.

/** A seeded pseudo-random source. Not for cryptography. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string | number) {
    // Spread the seed over the state with a string hash, then discard the first outputs so
    // that near-identical seeds do not start near-identical streams.
    const h = hashSeed(String(seed));
    this.a = h[0];
    this.b = h[1];
    this.c = h[2];
    this.d = h[3];
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [min, max], both ends included. */
  between(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /**
   * A standard normal deviate, from a table of 4,096 quantiles (one draw, no log/sqrt/cos):
   * exact enough for sizes and latencies, and the tails stop near ±3.5 sigma.
   */
  normal(): number {
    return NORMAL_QUANTILES[this.nextU32() >>> 20];
  }

  /**
   * A log-normal value with the given median and spread (sigma of the log), clamped to
   * [min, max]: the shape of response sizes and latencies (most small, a long right tail).
   */
  logNormal(median: number, sigma: number, min: number, max: number): number {
    const x = median * Math.exp(sigma * this.normal());
    return x < min ? min : x > max ? max : x;
  }

  /** An exponential deviate with the given mean (Poisson arrivals). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** n lowercase hex digits (n a multiple of 2). */
  hex(n: number): string {
    let s = '';
    let word = 0;
    for (let i = 0; i < n; i += 2) {
      if ((i & 7) === 0) word = this.nextU32();
      s += HEX_PAIRS[word & 255];
      word >>>= 8;
    }
    return s;
  }

  /** n decimal digits (leading zeros kept). */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(48 + this.below(10));
    return s;
  }
}

/** Inverse normal CDF (Acklam's rational approximation), for the quantile table. */
function inverseNormal(p: number): number {
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472,
    2.50662827745924,
  ];
  const b = [
    -54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857,
  ];
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373,
    4.37466414146497, 2.93816398269878,
  ];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lo) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

const NORMAL_QUANTILES = Float64Array.from({ length: 4096 }, (_, i) =>
  inverseNormal((i + 0.5) / 4096),
);

const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

/** cyrb128: a small string hash giving four 32-bit words, used only to seed sfc32. */
function hashSeed(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
