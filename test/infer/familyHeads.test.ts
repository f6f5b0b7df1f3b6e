// Detection heads found by evaluating the decode: YOLOv7's --grid form, YOLOv5's form, YOLOv8's DFL
// decode, raw-head exports; anchors from --anchors, the setting, yaml files and the paired .pt, and
// the error when a decode disagrees with them (fixtures: tools/fixtures/families/).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { anchorsFromCheckpoint, anchorsFromYaml, givenAnchors, parseAnchorList } from '../../src/core/infer/anchors';
import { findDetectHeads } from '../../src/core/infer/detectHead';
import { loadModel } from '../../src/core/onnx/proto';
import { commands } from '../../src/cli/commands/index';

const FIX = join(__dirname, '..', 'fixtures', 'families');
const fx = (f: string) => join(FIX, f);
const TRUE = [
  [10, 13, 16, 30, 33, 23],
  [30, 61, 62, 45, 59, 119],
  [116, 90, 156, 198, 373, 326],
];
const SPEC = '10,13,16,30,33,23/30,61,62,45,59,119/116,90,156,198,373,326';
const S: [number, number] = [320, 320];
const tmp = mkdtempSync(join(tmpdir(), 'qatlens-families-'));

test('yolov7 --grid export: the true anchors (not 4x), strides, family yolov7', async () => {
  const h = await findDetectHeads(loadModel(fx('yolov7_grid.onnx')), fx('yolov7_grid.onnx'), S);
  assert.equal(h.family, 'yolov7');
  assert.equal(h.decode, 'graph');
  assert.deepEqual(h.anchors, TRUE);
  assert.deepEqual(h.strides, [8, 16, 32]);
  assert.deepEqual(h.grids, [
    [40, 40],
    [20, 20],
    [10, 10],
  ]);
  assert.deepEqual([h.na, h.nc, h.no], [3, 6, 11]);
  assert.deepEqual(h.outputs, ['/model.0/m.0/Conv_output_0', '/model.0/m.1/Conv_output_0', '/model.0/m.2/Conv_output_0']);
  assert.match(h.anchorSource, /decode/);
});

test("the same weights with YOLOv5's decode form: same anchors and heads, family yolov5", async () => {
  const h = await findDetectHeads(loadModel(fx('yolov7_v5.onnx')), 'v5', S);
  assert.equal(h.family, 'yolov5');
  assert.deepEqual(h.anchors, TRUE);
  assert.deepEqual(h.strides, [8, 16, 32]);
});

test('YOLOv8-style export: anchor-free DFL head, reg_max 16, strides from the decode', async () => {
  const h = await findDetectHeads(loadModel(fx('yolov8.onnx')), 'v8', S);
  assert.equal(h.family, 'yolov8');
  assert.ok(h.anchorFree);
  assert.deepEqual([h.regMax, h.nc, h.no, h.na], [16, 6, 70, 1]);
  assert.deepEqual(h.strides, [8, 16, 32]);
  assert.deepEqual(h.anchors, []);
  assert.equal(h.outputs.length, 3);
});

test('raw export: heads from the shapes, anchors required; the error names options that exist', async () => {
  const m = loadModel(fx('yolov7_raw.onnx'));
  const err = await findDetectHeads(m, fx('yolov7_raw.onnx'), S).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err);
  assert.match(err.message, /yolov7_raw\.onnx: the model outputs raw detection heads \(3 scales of \[batch, 3, ny, nx, 11\]/);
  // Every option the message names exists: --anchors on map/probe/compare/correct, the setting in package.json.
  for (const name of ['map', 'probe', 'compare', 'correct']) {
    const c = commands.find((x) => x.name === name)!;
    assert.ok(c.options.anchors, `${name} has no --anchors`);
  }
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  for (const s of err.message.matchAll(/qatLens\.[\w.]+/g)) assert.ok(pkg.contributes.configuration.properties[s[0]], `${s[0]} is not a setting`);
  for (const o of err.message.matchAll(/--[a-z-]+/g)) assert.ok(['--anchors', '--onnx'].includes(o[0]), `unexpected option ${o[0]}`);
  assert.ok(commands.find((x) => x.name === 'map')!.options.onnx);
  const h = await findDetectHeads(m, 'raw', S, { anchors: TRUE, source: '--anchors' });
  assert.equal(h.decode, 'none');
  assert.deepEqual(h.strides, [8, 16, 32]);
  assert.deepEqual(h.rawOutputs, ['p3', 'p4', 'p5']);
  assert.deepEqual(h.outputs, ['/model.0/m.0/Conv_output_0', '/model.0/m.1/Conv_output_0', '/model.0/m.2/Conv_output_0']);
  await assert.rejects(findDetectHeads(m, 'raw', S, { anchors: [TRUE[0], TRUE[1]], source: '--anchors' }), /do not fit the model's 3 heads of 3 anchors each/);
});

test('a decode whose anchors disagree with a given source is an error that shows both', async () => {
  const wrong = TRUE.map((g) => g.map((v) => v * 4));
  await assert.rejects(
    findDetectHeads(loadModel(fx('yolov7_grid.onnx')), 'grid', S, { anchors: wrong, source: '--anchors' }),
    /the anchors the graph's decode computes \(10,13,16,30,33,23 \/ 30,61,62,45,59,119 \/ 116,90,156,198,373,326\) disagree with those from --anchors \(40,52,64,120,132,92 \/ /,
  );
  const ok = await findDetectHeads(loadModel(fx('yolov7_grid.onnx')), 'grid', S, { anchors: TRUE, source: '--anchors' });
  assert.match(ok.anchorSource, /agrees with --anchors/);
});

test("anchor sources: list, model yaml, setting, data yaml, the .pt's Detect module; the first given wins", () => {
  assert.deepEqual(parseAnchorList(SPEC, '--anchors'), TRUE);
  assert.deepEqual(parseAnchorList(' 10 13 16 30 / 30,61 ', '--anchors'), [
    [10, 13, 16, 30],
    [30, 61],
  ]);
  assert.throws(() => parseAnchorList('10,13,16', '--anchors'), /--anchors must be W,H,W,H/);
  assert.throws(() => parseAnchorList('10,x/2,3', '--anchors'), /got "10,x\/2,3"/);
  assert.deepEqual(anchorsFromYaml(fx('yolov7-tiny.yaml')), TRUE);
  assert.deepEqual(anchorsFromCheckpoint(fx('yolov7.pt')), TRUE);
  const data = join(tmp, 'data.yaml');
  writeFileSync(data, `path: ${fx('data')}\ncalib: images/calib\nval: images/val\nnames: [a, b, c, d, e, f]\nanchors:\n  - [1,2, 3,4, 5,6]\n  - [7,8, 9,10, 11,12]\n  - [13,14, 15,16, 17,18]\n`);
  const DATA = [
    [1, 2, 3, 4, 5, 6],
    [7, 8, 9, 10, 11, 12],
    [13, 14, 15, 16, 17, 18],
  ];
  const g = (s: Parameters<typeof givenAnchors>[0]) => givenAnchors(s);
  assert.deepEqual(g({ flag: SPEC, setting: '1,1', data, checkpoint: fx('yolov7.pt') }), { anchors: TRUE, source: '--anchors' });
  assert.deepEqual(g({ flag: fx('yolov7-tiny.yaml') }), { anchors: TRUE, source: `--anchors (${fx('yolov7-tiny.yaml')})` });
  assert.deepEqual(g({ setting: '2,3/4,5/6,7', data }), {
    anchors: [
      [2, 3],
      [4, 5],
      [6, 7],
    ],
    source: 'the qatLens.anchors setting',
  });
  assert.deepEqual(g({ data, checkpoint: fx('yolov7.pt') }), { anchors: DATA, source: `anchors: in ${data}` });
  assert.deepEqual(g({ data: fx('data'), checkpoint: fx('yolov7.pt') }), { anchors: TRUE, source: `the Detect module of ${fx('yolov7.pt')}` });
  assert.equal(g({ data: fx('data') }), undefined);
  const count = join(tmp, 'count.yaml');
  writeFileSync(count, 'anchors: 3\n');
  assert.throws(() => anchorsFromYaml(count), /count.yaml: anchors: 3 is a count/);
  assert.throws(() => g({ flag: join(tmp, 'missing.yaml') }), /missing\.yaml: cannot read file/);
});
