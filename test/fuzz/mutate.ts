// Seeded randomness and byte-level mutations for the fuzzer. Everything here is deterministic for
// a given seed, so a failing input can be regenerated from (seed, index) as well as from its file.

/** mulberry32: a small, fast, seeded PRNG. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Integers that break parsers: signs, powers of two, type limits. */
export const INTERESTING = [0, 1, -1, 2, 7, 8, -8, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, 0xffffffff, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, 1e9, 20000, 100000000];

function writeInt(b: Uint8Array, pos: number, v: number, width: 1 | 2 | 4 | 8): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (pos + width > b.length) return;
  if (width === 1) dv.setUint8(pos, v & 0xff);
  else if (width === 2) dv.setUint16(pos, v & 0xffff, true);
  else if (width === 4) dv.setUint32(pos, v >>> 0, true);
  else dv.setBigInt64(pos, BigInt(Math.trunc(v)), true);
}

/** 1-4 random byte-level edits of `src` (never longer than `max` bytes). */
export function mutateBytes(rng: Rng, src: Uint8Array, other?: Uint8Array, max = 1 << 20): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const edits = rng.range(1, 4);
  for (let e = 0; e < edits; e++) {
    const pos = b.length ? rng.int(b.length) : 0;
    switch (rng.int(9)) {
      case 0:
        if (b.length) b[pos] ^= 1 << rng.int(8);
        break;
      case 1:
        if (b.length) b[pos] = rng.pick([0, 0xff, 0x7f, 0x80, 0x7b, 0x2e, 0x28]);
        break;
      case 2:
        writeInt(b, pos, rng.pick(INTERESTING), rng.pick([1, 2, 4, 8] as const));
        break;
      case 3: {
        const ins = rng.bytes(rng.range(1, 32));
        b = concat(b.subarray(0, pos), ins, b.subarray(pos));
        break;
      }
      case 4: {
        const n = rng.range(1, Math.max(1, b.length >> 3));
        b = concat(b.subarray(0, pos), b.subarray(pos + n));
        break;
      }
      case 5: {
        const n = rng.range(1, 256);
        b = concat(b.subarray(0, pos), b.subarray(pos, pos + n), b.subarray(pos));
        break;
      }
      case 6:
        b = b.subarray(0, pos);
        break;
      case 7:
        if (other?.length) {
          const at = rng.int(other.length);
          b = concat(b.subarray(0, pos), other.subarray(at, at + rng.range(1, 512)));
        }
        break;
      case 8:
        for (let i = 0; i < 8 && b.length; i++) b[rng.int(b.length)] = rng.int(256);
        break;
    }
    if (b.length > max) b = b.subarray(0, max);
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A random JSON value, sometimes deep, long or numerically hostile. */
export function randomJson(rng: Rng, depth = 0): unknown {
  const k = rng.int(depth > 4 ? 6 : 10);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(INTERESTING) * (rng.chance(0.5) ? 1 : -1);
    case 3:
      return rng.pick([0.5, 1e308, -1e308, 5e-324, 1.5, -0.0, 3.14]);
    case 4:
      return rng.pick(['', 'a', 'x'.repeat(rng.range(1, 2000)), '\u0000', '../../etc/passwd', '{"a":1}']);
    case 5:
      return rng.int(100);
    case 6:
      return Array.from({ length: rng.range(0, 6) }, () => randomJson(rng, depth + 1));
    case 7:
      return Object.fromEntries(
        Array.from({ length: rng.range(0, 5) }, () => [rng.pick(['id', 'bbox', 'area', 'image_id', 'category_id', 'score', 'iscrowd', 'name', 'x']), randomJson(rng, depth + 1)]),
      );
    case 8: {
      let v: unknown = 1;
      for (let i = rng.range(100, 3000); i > 0; i--) v = [v];
      return v;
    } // deeper: deepJsonText
    default:
      return [rng.next() * 100, rng.next() * 100, rng.next() * 50, rng.next() * 50];
  }
}

/** A JSON text whose nesting is deeper than any recursive code can follow (raw text, no objects built). */
export function deepJsonText(rng: Rng): string {
  const d = rng.range(10_000, 200_000);
  return rng.chance(0.5) ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + '1' + '}'.repeat(d);
}
