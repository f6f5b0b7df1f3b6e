// The probe on the bundled example (real PyTorch-trained W4A4 detector): the integer QDQ export
// paired with its FP16 training checkpoint, δ = 0 scoring exactly like the QDQ file, and the
// per-layer probe restricted to the layers the oscillation analysis flags.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCheckpoints } from '../../src/core/analysis/analyzeCheckpoints';
import { makeScorer } from '../../src/core/compare/score';
import { quietContext } from '../../src/core/context';
import { probeModel } from '../../src/core/probe/probe';
import { readCheckpoint } from '../../src/core/readers';

const run = join(__dirname, '..', '..', 'examples', 'shapes', 'w4a4');
const data = join(__dirname, '..', '..', 'examples', 'shapes', 'data.yaml');

test('integer QDQ + checkpoint: δ = 0 scores exactly the QDQ file; per-layer soft counts add up', async () => {
  const scorer = makeScorer();
  const r = await probeModel(join(run, 'qdq.onnx'), { data, deltas: [0.1], pt: join(run, 'epoch_28.pt'), latent: false, limit: 8 }, quietContext(), scorer);
  const qat = await scorer(join(run, 'qdq.onnx'), data, { limit: 8 }, quietContext());
  assert.equal(r.baseline.map, qat.map);
  assert.equal(r.baseline.map50, qat.map50);
  assert.match(r.latentFrom, /epoch_28\.pt \((ema|model)\)/);
  assert.ok(
    r.notes.some((n) => /float16/.test(n)),
    'says the checkpoint is half precision',
  );
  // Soft counts per layer add up to the variant's total, and are about 2δ of the in-range weights or more (pile-up).
  const total = r.layers.reduce((a, l) => a + l.soft[0], 0);
  assert.equal(total, r.soft[0].softWeights);
  const inRange = r.layers.reduce((a, l) => a + l.inRange, 0);
  assert.ok(total / inRange > 0.15 && total / inRange < 0.5, `${total} of ${inRange}`);
});

test('per-layer probe of the flagged layers only: exactly the layers the analysis flags in the ONNX', async () => {
  const file = join(run, 'qdq_latent.onnx');
  const flagged = analyzeCheckpoints([await readCheckpoint(file)])
    .layers.filter((l) => l.flagged)
    .map((l) => l.name);
  assert.ok(flagged.length > 0);
  const r = await probeModel(file, { data, deltas: [0.1], latent: false, perLayer: true, flaggedOnly: true, perLayerImages: 1, limit: 4 }, quietContext());
  assert.deepEqual(r.perLayer!.layers.map((l) => l.name).sort(), [...flagged].sort());
  assert.ok(r.perLayer!.layers.every((l) => l.flagged === true));
});
