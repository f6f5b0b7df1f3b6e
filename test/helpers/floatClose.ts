// Two float32 outputs of one graph on different engines or backends agree to summation-order noise
// when their largest difference is within 1e-5 of their largest value (decoded boxes run to ~300).
import assert from 'node:assert/strict';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; big: number } {
  assert.equal(a.length, b.length);
  let max = 0,
    big = 0;
  for (let i = 0; i < b.length; i++) {
    max = Math.max(max, Math.abs(a[i] - b[i]));
    big = Math.max(big, Math.abs(b[i]));
  }
  return { max, big };
}

export function assertFloatClose(ours: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  const { max, big } = maxAbsDiff(ours, ref);
  assert.ok(max <= 1e-5 * big + 1e-5, `${what}: max difference ${max} (largest value ${big})`);
}
