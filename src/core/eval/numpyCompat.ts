// Two small pieces of Python/numpy behaviour the summary must reproduce digit for digit.

/** numpy's pairwise summation of float64 (pairwise_sum in loops_utils.h): blocks of up to 128
 *  summed with 8 interleaved accumulators, larger ranges split in two at a multiple of 8. */
export function pairwiseSum(a: Float64Array | number[], lo = 0, n = a.length - lo): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i];
    return res;
  }
  if (n <= 128) {
    let r0 = a[lo],
      r1 = a[lo + 1],
      r2 = a[lo + 2],
      r3 = a[lo + 3];
    let r4 = a[lo + 4],
      r5 = a[lo + 5],
      r6 = a[lo + 6],
      r7 = a[lo + 7];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const b = lo + i;
      r0 += a[b];
      r1 += a[b + 1];
      r2 += a[b + 2];
      r3 += a[b + 3];
      r4 += a[b + 4];
      r5 += a[b + 5];
      r6 += a[b + 6];
      r7 += a[b + 7];
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
}

/** np.mean of the entries > -1, or -1 when there are none (summarize()'s rule). */
export function meanAboveMinusOne(values: Float64Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (values[i] > -1) values[n++] = values[i];
  return n === 0 ? -1 : pairwiseSum(values, 0, n) / n;
}

/** Python's format(x, '.{d}f'): like toFixed, but an exact tie rounds to even, not away from zero. */
export function pyFixed(x: number, d: number): string {
  const s = x.toFixed(d);
  // x*10^d is exactly halfway between integers iff x*2^(d+1) is an odd integer.
  const h = Math.abs(x) * 2 ** (d + 1);
  if (!Number.isInteger(h) || h % 2 !== 1) return s;
  const scaled = Math.abs(x) * 10 ** d; // exact: an odd multiple of 5^d / 2
  const lo = Math.floor(scaled);
  const even = lo % 2 === 0 ? lo : lo + 1;
  const digits = String(even).padStart(d + 1, '0');
  const body = d > 0 ? `${digits.slice(0, digits.length - d)}.${digits.slice(digits.length - d)}` : digits;
  return (x < 0 ? '-' : '') + body;
}
