// Data sets (COCO, YOLO), their errors, and YOLOv5's letterbox geometry and pixels.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { labelledImages, openDataset } from '../../src/core/data/dataset';
import { boxesToOriginal, letterboxGeometry, letterboxInto } from '../../src/core/data/letterbox';
import { parseYaml } from '../../src/core/data/yamlFile';

const FIX = join(__dirname, '..', 'fixtures', 'pipeline');
const SHAPES = join(__dirname, '..', '..', 'examples', 'shapes');

test('YOLO and COCO forms of the fixture give the same ground truth', async () => {
  const y = await openDataset(join(FIX, 'data.yaml'));
  const c = await openDataset(join(FIX, 'instances_val.json'));
  assert.equal(y.format, 'yolo');
  assert.equal(c.format, 'coco');
  assert.deepEqual(
    y.images.map((i) => [i.id, i.width, i.height]),
    [
      [1, 96, 72],
      [2, 50, 70],
      [3, 64, 64],
      [4, 130, 90],
    ],
  );
  assert.deepEqual(
    c.images.map((i) => i.file),
    y.images.map((i) => i.file),
  );
  assert.equal(y.gt.annotations.length, c.gt.annotations.length);
  for (let i = 0; i < y.gt.annotations.length; i++) {
    const a = y.gt.annotations[i],
      b = c.gt.annotations[i];
    assert.equal(a.image_id, b.image_id);
    assert.equal(a.category_id, b.category_id);
    for (let k = 0; k < 4; k++) assert.ok(Math.abs(a.bbox[k] - b.bbox[k]) < 1e-3, `bbox ${i}.${k}: ${a.bbox[k]} vs ${b.bbox[k]}`);
    assert.ok(Math.abs(a.area - a.bbox[2] * a.bbox[3]) < 1e-9);
    assert.equal(a.iscrowd, 0);
  }
  assert.deepEqual(y.names, ['disc', 'box', 'bar']);
  assert.deepEqual(c.categoryIds, [1, 2, 3]);
  // A folder holding both: the COCO instances of the split are taken.
  assert.equal((await openDataset(FIX)).format, 'coco');
});

test('examples/shapes: YOLO labels and COCO instances agree (200 val images)', async () => {
  const y = await openDataset(join(SHAPES, 'data.yaml'));
  const c = await openDataset(join(SHAPES, 'annotations', 'instances_val.json'));
  assert.equal(y.images.length, 200);
  assert.equal(c.images.length, 200);
  assert.equal(y.gt.annotations.length, c.gt.annotations.length);
  let worst = 0;
  y.gt.annotations.forEach((a, i) => {
    const b = c.gt.annotations[i];
    assert.equal(a.category_id, b.category_id);
    assert.equal(a.image_id, b.image_id);
    for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(a.bbox[k] - b.bbox[k]));
  });
  assert.ok(worst < 2e-3, `largest bbox difference ${worst}`);
  const calib = await labelledImages(SHAPES, 'calib', { limit: 5 });
  assert.equal(calib.dataset.split, 'calib');
  assert.equal(calib.images.length, 5);
  assert.equal(calib.images[0].boxes.length, calib.images[0].classes.length * 4);
  assert.ok(calib.images.every((im) => Array.from(im.classes).every((k) => k >= 0 && k < 5)));
});

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'qatlens-data-'));
  mkdirSync(join(d, 'images', 'val'), { recursive: true });
  mkdirSync(join(d, 'labels', 'val'), { recursive: true });
  cpSync(join(FIX, 'images', 'val', 'a.jpg'), join(d, 'images', 'val', 'a.jpg'));
  writeFileSync(join(d, 'data.yaml'), 'path: .\nval: images/val\nnames: [x, y]\n');
  return d;
}

test('bad YOLO labels: clear errors naming the file and line', async () => {
  const cases: [string, RegExp][] = [
    ['2 0.5 0.5 0.1 0.1\n', /a\.txt: line 1: class id 2 is not one of the 2 classes/],
    ['0 0.5 1.5 0.1 0.1\n', /a\.txt: line 1: box .* is out of range/],
    ['0 0.5 0.5 0.1\n', /a\.txt: line 1: expected "class cx cy w h"/],
    ['0 0.5 zero 0.1 0.1\n', /a\.txt: line 1: not numbers/],
    ['0 0.5 0.5 0.2 0.2\n1.5 0.5 0.5 0.1 0.1\n', /a\.txt: line 2: class id 1\.5/],
  ];
  for (const [text, re] of cases) {
    const d = scratch();
    writeFileSync(join(d, 'labels', 'val', 'a.txt'), text);
    await assert.rejects(openDataset(join(d, 'data.yaml')), re);
    rmSync(d, { recursive: true });
  }
  const d = scratch();
  await assert.rejects(openDataset(join(d, 'data.yaml'), { split: 'test' }), /data\.yaml: no "test" split \(splits listed: val\)/);
  writeFileSync(join(d, 'data.yaml'), 'val: images/val\nnames:\n  0: x\n  2: y\n');
  await assert.rejects(openDataset(join(d, 'data.yaml')), /"names" skips class id 1/);
  rmSync(d, { recursive: true });
});

test('bad COCO files: missing images, unknown categories, boxes out of range', async () => {
  const d = mkdtempSync(join(tmpdir(), 'qatlens-coco-'));
  const gt = JSON.parse(readFileSync(join(FIX, 'instances_val.json'), 'utf8'));
  const write = (j: unknown) => {
    writeFileSync(join(d, 'instances_val.json'), JSON.stringify(j));
    return join(d, 'instances_val.json');
  };
  await assert.rejects(openDataset(write(gt)), /instances_val\.json: cannot find image "a\.jpg"/);
  cpSync(join(FIX, 'images'), join(d, 'images'), { recursive: true });
  rmSync(join(d, 'images', 'val', 'c.jpg'));
  await assert.rejects(openDataset(write(gt)), /instances_val\.json: image 3 is missing: .*c\.jpg/);
  cpSync(join(FIX, 'images', 'val', 'c.jpg'), join(d, 'images', 'val', 'c.jpg'));
  const bad = structuredClone(gt);
  bad.annotations[0].category_id = 9;
  await assert.rejects(openDataset(write(bad)), /annotations\[0\] \(id 1\) has category_id 9, which is not in "categories"/);
  const far = structuredClone(gt);
  far.annotations[1].bbox = [90, 10, 40, 10];
  await assert.rejects(openDataset(write(far)), /annotations\[1\] .*bbox \[90, 10, 40, 10\] is out of range for image 1 \(96x72\)/);
  writeFileSync(join(d, 'instances_val.json'), '{"images": [');
  await assert.rejects(openDataset(join(d, 'instances_val.json')), /instances_val\.json: not valid JSON/);
  rmSync(d, { recursive: true });
});

test('data.yaml subset: flow lists, block lists, id maps, comments', () => {
  const y = parseYaml("# c\npath: ../d  # root\ntrain: [a/x, 'b y']\nval: images/val\nnames:\n  - 'cat'\n  - dog # pet\nnc: 2\n", 'f.yaml');
  assert.deepEqual(y, { path: '../d', train: ['a/x', 'b y'], val: 'images/val', names: ['cat', 'dog'], nc: 2 });
  // Ultralytics' newer files use maps of class ids, block or flow.
  assert.deepEqual(parseYaml('names: {0: a, 1: b}\n', 'f.yaml'), { names: { 0: 'a', 1: 'b' } });
  assert.deepEqual(parseYaml('names:\n  0: person\n  1: car\n', 'f.yaml'), { names: { 0: 'person', 1: 'car' } });
  assert.throws(() => parseYaml('names: [a, b\nval: x\n', 'f.yaml'), /f\.yaml: line \d+: not valid YAML/);
  assert.throws(() => parseYaml('a: 1\na: 2\n', 'f.yaml'), /f\.yaml: line 2: not valid YAML/);
});

test('letterbox geometry follows YOLOv5 val (load_image ceil resize, then centred 114 padding)', () => {
  // 96x72 into 64: r = 2/3, resized 64x48, dh = 8.
  assert.deepEqual(letterboxGeometry(96, 72, 64, 64), { width0: 96, height0: 72, width: 64, height: 48, gain: 48 / 72, padX: 0, padY: 8, left: 0, top: 8 });
  // 90x128 into 64: r = 0.5, 45x64, dw = 9.5 -> left round(9.4) = 9, right 10; scale_boxes subtracts 9.5.
  const g = letterboxGeometry(90, 128, 64, 64);
  assert.deepEqual([g.width, g.height, g.padX, g.left, g.gain], [45, 64, 9.5, 9, 0.5]);
  // ceil, not round: 50x70 -> 64/70 * 50 = 45.71 -> 46.
  assert.equal(letterboxGeometry(50, 70, 64, 64).width, 46);
  // Enlarging (r > 1) too: 32x16 -> 64x32.
  assert.deepEqual([letterboxGeometry(32, 16, 64, 64).width, letterboxGeometry(32, 16, 64, 64).height], [64, 32]);
  const b = Float32Array.of(9.5, 0, 54.5, 64, -5, -5, 100, 100);
  boxesToOriginal(b, 2, g);
  assert.deepEqual(Array.from(b), [0, 0, 90, 128, 0, 0, 90, 128]);
});

test('letterboxInto: RGB order, /255, 114 padding, grey images to 3 channels', async () => {
  const d = mkdtempSync(join(tmpdir(), 'qatlens-lb-'));
  const file = join(d, 'solid.png');
  await sharp({ create: { width: 90, height: 128, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .png()
    .toFile(file);
  const out = new Float32Array(2 * 3 * 64 * 64).fill(-1);
  const g = await letterboxInto(file, 64, 64, out, 3 * 64 * 64);
  assert.equal(g.left, 9);
  assert.ok(
    out.subarray(0, 3 * 64 * 64).every((v) => v === -1),
    'the first image slot is untouched',
  );
  const px = (c: number, y: number, x: number) => out[3 * 64 * 64 + c * 64 * 64 + y * 64 + x];
  for (const y of [0, 31, 63]) {
    assert.equal(px(0, y, 8), Math.fround(114 / 255));
    assert.equal(px(0, y, 30), Math.fround(200 / 255));
    assert.equal(px(1, y, 30), Math.fround(100 / 255));
    assert.equal(px(2, y, 30), Math.fround(50 / 255));
    assert.equal(px(2, y, 54), Math.fround(114 / 255)); // 9 + 45 = 54: right padding
  }
  const grey = new Float32Array(3 * 64 * 64);
  await letterboxInto(join(FIX, 'images', 'val', 'c.jpg'), 64, 64, grey);
  for (let i = 0; i < 64 * 64; i += 97) assert.equal(grey[i], grey[i + 64 * 64]);
  await assert.rejects(letterboxInto(join(FIX, 'data.yaml'), 64, 64, grey), /data\.yaml: cannot decode image/);
  rmSync(d, { recursive: true });
});
