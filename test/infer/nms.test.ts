// YOLOv5 NMS (validation settings) and head layout detection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectLayout } from '../../src/core/infer/decode';
import { NMS_DEFAULTS, nonMaxSuppression, type NmsOptions } from '../../src/core/infer/nms';

/** Rows [x, y, w, h, obj, c0, c1] for the yolov5 layout. */
function v5(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

test('multi-label candidates, obj x cls scores, class-aware suppression', () => {
  const pred = v5([
    [50, 50, 20, 20, 0.9, 0.9, 0.0], // A: class 0, score .81
    [51, 50, 20, 20, 0.8, 0.9, 0.5], // B: overlaps A (IoU .9): class 0 suppressed; class 1 (.40) kept
    [150, 50, 20, 20, 0.5, 0.02, 0.001], // C: class 0 .01 kept; class 1 .0005 below conf
    [10, 10, 4, 4, 0.0005, 1, 1], // D: objectness below conf: no candidate at all
  ]);
  const d = nonMaxSuppression(pred, 0, 4, 2, 'yolov5');
  assert.equal(d.count, 3);
  assert.deepEqual(Array.from(d.classes), [0, 1, 0]);
  const f = Math.fround;
  assert.deepEqual(Array.from(d.scores), [f(f(0.9) * f(0.9)), f(f(0.8) * f(0.5)), f(f(0.5) * f(0.02))]);
  assert.deepEqual(Array.from(d.boxes.subarray(0, 4)), [40, 40, 60, 60]);
  assert.deepEqual(Array.from(d.boxes.subarray(4, 8)), [41, 40, 61, 60]);
  // Agnostic: B's class-1 candidate now overlaps A and goes.
  assert.equal(nonMaxSuppression(pred, 0, 4, 2, 'yolov5', { ...NMS_DEFAULTS, agnostic: true }).count, 2);
  // Single label: B keeps only its best class (0), which A suppresses.
  const single = nonMaxSuppression(pred, 0, 4, 2, 'yolov5', { ...NMS_DEFAULTS, multiLabel: false });
  assert.deepEqual(Array.from(single.classes), [0, 0]);
  // The IoU threshold is strict (>): IoU exactly .6 survives.
  const six = v5([
    [0, 0, 16, 10, 1, 1, 0],
    [2, 0, 16, 10, 0.9, 1, 0],
  ]); // overlap 14x10 / (160 + 160 - 140) = .7778
  assert.equal(nonMaxSuppression(six, 0, 2, 2, 'yolov5', { ...NMS_DEFAULTS, iouThreshold: 0.7778 }).count, 2);
  assert.equal(nonMaxSuppression(six, 0, 2, 2, 'yolov5', { ...NMS_DEFAULTS, iouThreshold: 0.7 }).count, 1);
});

test('yolov8 layout ([4+C, anchors], no objectness) and offsets into a batch', () => {
  const rows = [
    [50, 50, 20, 20, 0.9, 0.2],
    [52, 50, 20, 20, 0.8, 0.7],
    [100, 100, 10, 10, 0.0001, 0.3],
  ];
  const A = rows.length,
    K = 6;
  const planes = new Float32Array(2 * K * A); // two images; the second is the one read
  for (let a = 0; a < A; a++) for (let k = 0; k < K; k++) planes[K * A + k * A + a] = rows[a][k];
  const d = nonMaxSuppression(planes, K * A, A, 2, 'yolov8');
  // .9 (row 0, class 0) kept; .8 (row 1, class 0) suppressed by it; .7 (row 1, class 1) kept;
  // .3 (row 2, class 1) kept; .2 (row 0, class 1) suppressed by row 1's class 1; .0001 below conf.
  assert.deepEqual(Array.from(d.classes), [0, 1, 1]);
  assert.deepEqual(Array.from(d.scores), [0.9, 0.7, 0.3].map(Math.fround));
});

/** Reference: YOLOv5's steps literally, O(n^2) greedy over all candidates with class offsets. */
function reference(pred: Float32Array, A: number, C: number, o: NmsOptions) {
  const f = Math.fround;
  const cand: { a: number; c: number; s: number; i: number }[] = [];
  for (let a = 0; a < A; a++) {
    const r = pred.subarray(a * (5 + C), (a + 1) * (5 + C));
    if (!(r[4] > o.confThreshold)) continue;
    for (let c = 0; c < C; c++) {
      const s = f(r[5 + c] * r[4]);
      if (s > o.confThreshold) cand.push({ a, c, s, i: cand.length });
    }
  }
  cand.sort((p, q) => q.s - p.s || p.i - q.i);
  const box = (x: { a: number; c: number }) => {
    const r = pred.subarray(x.a * (5 + C));
    const off = f(x.c * o.maxWh);
    return [f(f(r[0] - f(r[2] / 2)) + off), f(f(r[1] - f(r[3] / 2)) + off), f(f(r[0] + f(r[2] / 2)) + off), f(f(r[1] + f(r[3] / 2)) + off)];
  };
  const suppressed = new Array(cand.length).fill(false);
  const keep: typeof cand = [];
  for (let i = 0; i < cand.length; i++) {
    if (suppressed[i]) continue;
    keep.push(cand[i]);
    const bi = box(cand[i]);
    const ai = f(f(bi[2] - bi[0]) * f(bi[3] - bi[1]));
    for (let j = i + 1; j < cand.length; j++) {
      if (suppressed[j]) continue;
      const bj = box(cand[j]);
      const aj = f(f(bj[2] - bj[0]) * f(bj[3] - bj[1]));
      const w = Math.max(0, f(Math.min(bi[2], bj[2]) - Math.max(bi[0], bj[0])));
      const h = Math.max(0, f(Math.min(bi[3], bj[3]) - Math.max(bi[1], bj[1])));
      const inter = f(w * h);
      if (f(inter / f(f(ai + aj) - inter)) > o.iouThreshold) suppressed[j] = true;
    }
  }
  return keep.slice(0, o.maxDetections);
}

test('fast NMS equals the literal O(n^2) reference on random heads', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const [A, C, maxDet] of [
    [400, 3, 300],
    [800, 5, 50],
    [300, 1, 300],
  ]) {
    const pred = new Float32Array(A * (5 + C));
    for (let a = 0; a < A; a++) {
      const r = a * (5 + C);
      // Clustered boxes so that suppression matters.
      pred[r] = 60 + 40 * Math.floor(rnd() * 4) + rnd() * 8;
      pred[r + 1] = 60 + rnd() * 10;
      pred[r + 2] = 20 + rnd() * 10;
      pred[r + 3] = 20 + rnd() * 10;
      pred[r + 4] = rnd();
      for (let c = 0; c < C; c++) pred[r + 5 + c] = rnd() ** 3;
    }
    const o = { ...NMS_DEFAULTS, maxDetections: maxDet };
    const ref = reference(pred, A, C, o);
    const d = nonMaxSuppression(pred, 0, A, C, 'yolov5', o);
    assert.equal(d.count, ref.length, `A=${A} C=${C}`);
    assert.ok(d.count > 10 && d.count < A * C);
    for (let k = 0; k < d.count; k++) {
      assert.equal(d.classes[k], ref[k].c);
      assert.equal(d.scores[k], ref[k].s);
    }
  }
});

test('head layout from the output shape, with class count and override', () => {
  assert.deepEqual(detectLayout([1, 25200, 85]), { layout: 'yolov5', anchors: 25200, classes: 80 });
  assert.deepEqual(detectLayout([1, 84, 8400]), { layout: 'yolov8', anchors: 8400, classes: 80 });
  assert.deepEqual(detectLayout([1, 240, 8], 3), { layout: 'yolov5', anchors: 240, classes: 3 });
  assert.deepEqual(detectLayout([1, 7, 240], 3), { layout: 'yolov8', anchors: 240, classes: 3 });
  // Short head where the heuristic would guess wrong but the class count decides.
  assert.deepEqual(detectLayout([1, 6, 9], 4), { layout: 'yolov5', anchors: 6, classes: 4 });
  assert.deepEqual(detectLayout([1, 6, 9]), { layout: 'yolov8', anchors: 9, classes: 2 });
  assert.deepEqual(detectLayout([1, 25200, 85], undefined, 'yolov8'), { layout: 'yolov8', anchors: 85, classes: 25196 });
  assert.throws(() => detectLayout([1, 3, 640, 640]), /expected \[batch, anchors, 5\+classes\]/);
});

test('top max_nms selection equals a full sort, ties by candidate order', async () => {
  const { topOrder } = await import('../../src/core/infer/nms.js');
  // Many ties (scores on a 1/1000 grid), more candidates than kept.
  const s = Float32Array.from({ length: 50000 }, (_, i) => ((i * 7919) % 1000) / 1000 + 0.001);
  for (const k of [1, 999, 30000, 50000]) {
    const ref = Array.from(s.keys())
      .sort((i, j) => s[j] - s[i] || i - j)
      .slice(0, k);
    assert.deepEqual(Array.from(topOrder(s, s.length, k)), ref, `k=${k}`);
  }
  // max_nms cuts the candidates before NMS: with 1 candidate allowed only the best survives.
  const pred = Float32Array.from(
    [
      [50, 50, 20, 20, 0.9, 0.5, 0.6],
      [150, 50, 20, 20, 0.9, 0.7, 0.1],
    ].flat(),
  );
  const d = nonMaxSuppression(pred, 0, 2, 2, 'yolov5', { ...NMS_DEFAULTS, maxNms: 1 });
  assert.deepEqual([d.count, d.classes[0], d.boxes[0]], [1, 0, 140]);
});

test('model metadata: class names and input size in the forms exporters write', async () => {
  const { parseNames } = await import('../../src/core/infer/modelInfo.js');
  assert.deepEqual(parseNames("{0: 'person', 1: \"traffic light\", 10: 'dog', 2: 'cat'}"), ['person', 'traffic light', 'cat', 'dog']);
  assert.deepEqual(parseNames('["a", "b"]'), ['a', 'b']);
  assert.deepEqual(parseNames('{"1": "b", "0": "a"}'), ['a', 'b']);
  assert.deepEqual(parseNames('[cat, dog]'), ['cat', 'dog']);
  assert.equal(parseNames('nothing here'), undefined);
});
