// The engine's one seeded pseudo-random generator: xoshiro128** (Blackman & Vigna), seeded from
// a list of 32-bit words through splitmix32 mixing. Small enough to transcribe exactly in Python
// (tools/reference/bootstrap_ref.py draws the same bootstrap resamples), and deterministic across
// platforms (integer arithmetic only; floats are derived from the integers).

const mix32 = (z: number): number => {
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
};
const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  /** Seeded by one or more integers (each taken modulo 2^32), e.g. (seed, split, index). */
  constructor(...words: number[]) {
    let x = 0;
    for (const w of words) x = mix32((x ^ (w >>> 0)) + 0x9e3779b9);
    const next = () => ((x = (x + 0x9e3779b9) >>> 0), mix32(x));
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** An integer in [0, n), n ≤ 2^21: floor(u32 · n / 2^32), exact in doubles. */
  int(n: number): number {
    return Math.floor((this.u32() * n) / 4294967296);
  }

  /** An integer in [lo, hi) (numpy's integers(lo, hi) convention). */
  intIn(lo: number, hi: number): number {
    return lo + this.int(hi - lo);
  }

  /** A double in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** A standard normal draw (Box-Muller on 32-bit uniforms, the second value of each pair kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u = (this.u32() + 1) / 4294967296; // (0, 1]: log(u) is finite
    const r = Math.sqrt(-2 * Math.log(u));
    const a = (2 * Math.PI * this.u32()) / 4294967296;
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}
