// The TypeScript shapes generator (src/core/data/shapes): deterministic images and labels, the
// raster conventions it relies on, and the cached data set it writes (YOLO + COCO, data.yaml).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { openDataset } from '../../src/core/data/dataset';
import { shapesDataset } from '../../src/core/data/shapes/dataset';
import { drawShapesImage, makeShapesImage, shapePoints } from '../../src/core/data/shapes/generate';
import { fillPolygon, resize, type Rgb } from '../../src/core/data/shapes/raster';
import { Rng } from '../../src/core/rng';

test('an image is a pure function of (seed, split, index)', async () => {
  const a = await makeShapesImage('val', 5),
    b = await makeShapesImage('val', 5);
  assert.deepEqual(a.boxes, b.boxes);
  assert.ok(a.jpeg.equals(b.jpeg));
  const c = await makeShapesImage('calib', 5);
  assert.notDeepEqual(a.boxes, c.boxes);
  const meta = await sharp(a.jpeg).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, 320);
  assert.equal(meta.height, 320);
});

test('labels: 1-10 boxes per image inside the image, at least 6 px, partial overlap only', () => {
  let n = 0;
  for (let i = 0; i < 30; i++) {
    const { boxes } = drawShapesImage('holdout', i);
    assert.ok(boxes.length >= 1 && boxes.length <= 10, `${boxes.length} boxes`);
    for (const [c, x0, y0, x1, y1] of boxes) {
      assert.ok(Number.isInteger(c) && c >= 0 && c < 5);
      assert.ok(x0 >= 0 && y0 >= 0 && x1 <= 320 && y1 <= 320 && x1 - x0 >= 6 && y1 - y0 >= 6, `${[x0, y0, x1, y1]}`);
    }
    n += boxes.length;
  }
  assert.ok(n > 60 && n < 300, `${n} boxes in 30 images`);
});

test('a filled polygon covers the pixels whose centres lie inside it (grown by the given margin)', () => {
  const img: Rgb = { w: 10, h: 10, data: new Uint8Array(300) };
  fillPolygon(
    img,
    [
      [2, 2],
      [6, 2],
      [6, 6],
      [2, 6],
    ],
    [255, 0, 0],
    0,
  );
  const on = (x: number, y: number) => img.data[(y * 10 + x) * 3] === 255;
  let count = 0;
  for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) if (on(x, y)) count++;
  assert.equal(count, 16); // pixels 2..5 in x and y: centres 2.5..5.5
  assert.ok(on(2, 2) && on(5, 5) && !on(6, 6) && !on(1, 3));
  const grown: Rgb = { w: 10, h: 10, data: new Uint8Array(300) };
  fillPolygon(
    grown,
    [
      [2.4, 2.4],
      [6, 2.4],
      [6, 6],
      [2.4, 6],
    ],
    [255, 0, 0],
    0.35,
  );
  assert.equal(grown.data[(2 * 10 + 2) * 3], 255); // centre 2.5 is within 2.4 - 0.35
});

test('shapes have the analytic extent: a square of radius r at rotation 0 spans 2r', () => {
  const pts = shapePoints(1, 100, 100, 20, 0);
  assert.deepEqual(
    pts.map((p) => p.map((v) => Math.round(v * 1e9) / 1e9)),
    [
      [120, 100],
      [100, 120],
      [80, 100],
      [100, 80],
    ],
  );
});

test('resize keeps a constant image constant and interpolates a ramp monotonically', () => {
  const c = resize(new Uint8Array(4 * 3 * 3).fill(77), 4, 3, 3, 40, 30, 'bicubic');
  assert.ok(c.every((v) => v === 77));
  const ramp = resize(Uint8Array.from([0, 100, 200]), 3, 1, 1, 30, 1, 'bilinear');
  for (let i = 1; i < 30; i++) assert.ok(ramp[i] >= ramp[i - 1]);
  assert.equal(ramp[0], 0);
  assert.equal(ramp[29], 200);
});

test('Rng: uniform floats and normals have the right moments', () => {
  const r = new Rng(42);
  let s = 0,
    s2 = 0,
    m = 0,
    m2 = 0;
  const N = 200000;
  for (let i = 0; i < N; i++) {
    const u = r.float();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    const z = r.normal();
    m += z;
    m2 += z * z;
  }
  assert.ok(Math.abs(s / N - 0.5) < 0.003 && Math.abs(s2 / N - (s * s) / N / N - 1 / 12) < 0.002);
  assert.ok(Math.abs(m / N) < 0.01 && Math.abs(m2 / N - 1) < 0.01);
  const counts = new Int32Array(7);
  for (let i = 0; i < 70000; i++) counts[r.int(7)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 450, `${counts}`);
});

test('shapesDataset writes the YOLO + COCO layout once, and finds it again', async () => {
  const root = mkdtempSync(join(tmpdir(), 'qat-lens-shapes-'));
  try {
    const dir = join(root, 'set');
    const yaml = await shapesDataset({ dir, val: 6, calib: 4, holdout: 3 });
    assert.equal(yaml, join(dir, 'data.yaml'));
    const text = readFileSync(yaml, 'utf8');
    assert.match(text, /^val: images\/val$/m);
    assert.match(text, /^calib: images\/calib$/m);
    assert.match(text, /^holdout: images\/holdout$/m);
    for (const [split, n] of [
      ['val', 6],
      ['calib', 4],
      ['holdout', 3],
    ] as const) {
      const ds = await openDataset(yaml, { split });
      assert.equal(ds.images.length, n);
      const coco = JSON.parse(readFileSync(join(dir, 'annotations', `instances_${split}.json`), 'utf8'));
      assert.equal(coco.images.length, n);
      // The YOLO labels and the COCO file hold the same boxes (to the labels' 6 decimals).
      assert.equal(ds.gt.annotations.length, coco.annotations.length);
      ds.gt.annotations.forEach((a, i) => {
        assert.equal(a.category_id, coco.annotations[i].category_id);
        a.bbox.forEach((v, k) => assert.ok(Math.abs(v - coco.annotations[i].bbox[k]) < 2e-3, `${split} ann ${i}: ${a.bbox} vs ${coco.annotations[i].bbox}`));
      });
    }
    const { boxes } = drawShapesImage('val', 0);
    assert.equal(
      readFileSync(join(dir, 'labels', 'val', '000000.txt'), 'utf8')
        .trim()
        .split('\n').length,
      boxes.length,
    );
    const before = statSync(join(dir, 'images', 'val', '000000.jpg')).mtimeMs;
    assert.equal(await shapesDataset({ dir, val: 6, calib: 4, holdout: 3 }), yaml);
    assert.equal(statSync(join(dir, 'images', 'val', '000000.jpg')).mtimeMs, before);
    // Other sizes in the same folder: refused, not overwritten.
    await assert.rejects(shapesDataset({ dir, val: 7, calib: 4, holdout: 3 }), /not a complete generated shapes set/);
    mkdirSync(join(root, 'other'));
    await assert.rejects(shapesDataset({ dir: join(root, 'other'), val: 1, calib: 0, holdout: 0 }), /remove it or choose another folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('shapesDataset on worker threads writes the same bytes as in this thread', async () => {
  const root = mkdtempSync(join(tmpdir(), 'qat-lens-shapes-threads-'));
  try {
    const one = await shapesDataset({ dir: join(root, 'one'), val: 5, calib: 3, holdout: 0, threads: 1 });
    const two = await shapesDataset({ dir: join(root, 'two'), val: 5, calib: 3, holdout: 0, threads: 2 });
    assert.match(readFileSync(join(root, 'two', 'shapes.json'), 'utf8'), /"threads": 2/);
    for (const f of ['images/val/000004.jpg', 'images/calib/000002.jpg', 'labels/val/000003.txt', 'annotations/instances_val.json'])
      assert.deepEqual(readFileSync(join(dirname(two), f)), readFileSync(join(dirname(one), f)), f);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
