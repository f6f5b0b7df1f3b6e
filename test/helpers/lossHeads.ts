// Layout helpers for loss tests: the references hold heads as [bs, na, ny, nx, no] (Detect's
// training view) while the TypeScript losses take the raw conv outputs, NCHW [bs, na*no, ny, nx].
import assert from 'node:assert/strict';
import type { HeadTensor } from '../../src/core/qc/loss/types';

/** [bs, na, ny, nx, no] -> NCHW [bs, na*no, ny, nx]. */
export function toNCHW(v: ArrayLike<number>, shape: number[]): HeadTensor {
  const [bs, na, ny, nx, no] = shape;
  const out = new Float32Array(v.length);
  let i = 0;
  for (let b = 0; b < bs; b++)
    for (let a = 0; a < na; a++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          for (let k = 0; k < no; k++) out[(((b * na + a) * no + k) * ny + y) * nx + x] = v[i++];
        }
  return { data: out, shape: [bs, na * no, ny, nx] };
}

/** Largest |ours - ref| over all heads and the largest |ref|. */
export function gradDiff(ours: ArrayLike<number>[], ref: ArrayLike<number>[]): { max: number; big: number } {
  let max = 0,
    big = 0;
  ref.forEach((r, i) => {
    assert.equal(ours[i].length, r.length);
    for (let k = 0; k < r.length; k++) {
      max = Math.max(max, Math.abs(ours[i][k] - r[k]));
      big = Math.max(big, Math.abs(r[k]));
    }
  });
  return { max, big };
}

export const relClose = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
