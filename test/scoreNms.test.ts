// The NMS settings reach the scorer: the same model and images with one detection per image kept
// must score lower than with YOLOv5's 300.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeScorer } from '../src/core/compare/score';
import { quietContext } from '../src/core/jobs/context';

const SHAPES = join(__dirname, '..', 'examples', 'shapes');

test('scorer passes NMS options to the pipeline', async () => {
  const score = makeScorer();
  const data = join(SHAPES, 'data.yaml');
  const model = join(SHAPES, 'float.onnx');
  const full = await score(model, data, { engine: 'cpu', limit: 4 }, quietContext());
  const one = await score(model, data, { engine: 'cpu', limit: 4, nms: { maxDetections: 1 } }, quietContext());
  assert.ok(full.map > 0.3, `float mAP on 4 images ${full.map}`);
  assert.ok(one.map < full.map - 0.1, `one detection per image must lose recall: ${one.map} vs ${full.map}`);
});
