// The scorer shared by compare, probe, QC and the example job.
// NMS settings reach it: the same model and images with one detection per image kept
// must score lower than with YOLOv5's 300.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeScorer } from '../../src/core/compare/score';
import { quietContext } from '../../src/core/context';

const SHAPES = join(__dirname, '..', '..', 'examples', 'shapes');

test('scorer passes NMS options to the pipeline', async () => {
  const score = makeScorer();
  const data = join(SHAPES, 'data.yaml');
  const model = join(SHAPES, 'float.onnx');
  const full = await score(model, data, { engine: 'cpu', limit: 4 }, quietContext());
  const one = await score(model, data, { engine: 'cpu', limit: 4, nms: { maxDetections: 1 } }, quietContext());
  assert.ok(full.map > 0.3, `float mAP on 4 images ${full.map}`);
  assert.ok(one.map < full.map - 0.1, `one detection per image must lose recall: ${one.map} vs ${full.map}`);
});

test('one scorer says the engine once across the models it scores', async () => {
  const score = makeScorer();
  const data = join(SHAPES, 'data.yaml');
  const lines: string[] = [];
  const ctx = { ...quietContext(), log: (_l: string, m: string) => lines.push(m) };
  await score(join(SHAPES, 'float.onnx'), data, { engine: 'cpu', limit: 2 }, ctx);
  await score(join(SHAPES, 'w4a4', 'qdq.onnx'), data, { engine: 'cpu', limit: 2 }, ctx);
  assert.equal(lines.filter((l) => l.startsWith('engine: ')).length, 1, lines.join('\n'));
});
