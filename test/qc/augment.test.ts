// QC's augmentations (src/core/qc/augment.ts): HSV gains on the hexcone model, checked on hand-computed
// colours; gains of 1 change nothing; the plan draws per image from its own seeded stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flipLeftRight, hsvJitter, planAugment, YOLOV5_HSV } from '../../src/core/qc/augment';
import { Rng } from '../../src/core/rng';

/** A 1x2 CHW image of two RGB pixels. */
const img = (a: number[], b: number[]) => Float32Array.from([a[0], b[0], a[1], b[1], a[2], b[2]]);
const px = (d: Float32Array, i: number) => [d[i], d[2 + i], d[4 + i]];
const close = (got: number[], want: number[]) => got.forEach((g, k) => assert.ok(Math.abs(g - want[k]) < 1e-6, `${got} vs ${want}`));

test('HSV gains: hand-computed colours; gains of 1 and grey pixels under hue/saturation gains are unchanged', () => {
  let d = img([1, 0.5, 0], [0.2, 0.4, 0.8]);
  hsvJitter(d, 0, 1, 2, [2, 1, 1]); // hue 30° -> 60°: orange -> yellow; 220° -> 440° = 80°
  close(px(d, 0), [1, 1, 0]);
  close(px(d, 1), [0.6, 0.8, 0.2]);
  d = img([1, 0.5, 0], [0.3, 0.3, 0.3]);
  hsvJitter(d, 0, 1, 2, [1, 0.5, 0.8]); // s 1 -> 0.5, v 1 -> 0.8: (0.8, 0.6, 0.4); grey: v only
  close(px(d, 0), [0.8, 0.6, 0.4]);
  close(px(d, 1), [0.24, 0.24, 0.24]);
  d = img([0.9, 0.1, 0.3], [0.5, 0.6, 0.7]);
  const before = Array.from(d);
  hsvJitter(d, 0, 1, 2, [1, 1, 1]);
  close(Array.from(d), before);
  d = img([0.5, 0.6, 0.7], [0, 0, 0]);
  hsvJitter(d, 0, 1, 2, [1, 3, 2]); // saturation and value clip at 1
  close(px(d, 0), [1 / 7, 4 / 7, 1]); // s 2/7 -> 6/7, v 0.7 -> 1 (clipped), hue 210° kept
});

test('flip mirrors each row; the plan is per image and reproducible from its seed', () => {
  const d = Float32Array.from({ length: 3 * 2 * 3 }, (_, i) => i);
  flipLeftRight(d, 0, 2, 3);
  assert.deepEqual(Array.from(d.subarray(0, 6)), [2, 1, 0, 5, 4, 3]);
  assert.equal(planAugment(4, {}, new Rng(1)), undefined);
  const a = planAugment(200, { fliplr: 0.5, hsv: YOLOV5_HSV }, new Rng(7))!;
  assert.deepEqual(a, planAugment(200, { fliplr: 0.5, hsv: YOLOV5_HSV }, new Rng(7)));
  const flips = a.filter((x) => x.flip).length;
  assert.ok(flips > 70 && flips < 130, `${flips} of 200 flipped`);
  for (const x of a) x.hsv!.forEach((g, k) => assert.ok(Math.abs(g - 1) <= YOLOV5_HSV[k], `${x.hsv}`));
});
