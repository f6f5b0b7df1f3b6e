// The QC gradient engine on onnxruntime's WebGPU engine (lavapipe here, a GPU with
// QAT_LENS_WEBGPU=system): the float fake-quant graphs (rounding by float adds) give the recorded
// reference gradients of the tiny QDQ detector, as the CPU engine does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { loadModel } from '../../src/core/onnx/proto';
import { createGradEngine } from '../../src/core/train/engine';
import { caseInputs, maxRelDiff, type CaseSpec } from '../helpers/trainCase';

const ROOT = join(__dirname, '..', '..');
const ref = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'train', 'vjp_reference.json'), 'utf8')).tiny as { spec: CaseSpec; dGamma: number[][]; dBeta: number[][] };

test('gradient engine on WebGPU: dγ/dβ of the tiny detector equal the recorded reference', async (t) => {
  const c: CaseSpec = { ...ref.spec, file: join(ROOT, ref.spec.file) };
  const e = await createGradEngine(loadModel(c.file), c.file, { layers: c.layers, heads: c.heads, engine: 'webgpu' });
  try {
    t.diagnostic(`device: ${e.device}; ${e.notes.join('; ')}`);
    assert.match(e.device, /^webgpu/);
    const inp = caseInputs(c);
    const g = await e.backward(inp.images, c.batch, inp.gamma, inp.beta, inp.dHeads);
    const dg = maxRelDiff(g.dGamma, ref.dGamma),
      db = maxRelDiff(g.dBeta, ref.dBeta);
    t.diagnostic(`dγ per layer ${dg.per.map((v) => v.toExponential(1)).join(' ')}; dβ ${db.per.map((v) => v.toExponential(1)).join(' ')}`);
    // Layers before the MaxPools (c1..c4): WebGPU's Sigmoid rounds differently, a few near-ties of the
    // pooled SiLU outputs go the other way and their gradient to a neighbouring pixel (lavapipe:
    // ≤ 5.9e-3 of the layer's largest). From the pooled layer (s1) on: float32 rounding (≤ 4.3e-7).
    const pooled = c.layers.findIndex((l) => l.name.startsWith('/s1/'));
    assert.ok(pooled > 0);
    for (const d of [dg, db]) {
      assert.ok(d.worst <= 2e-2, `worst ${d.worst} (layer ${d.at})`);
      assert.ok(Math.max(...d.per.slice(pooled)) <= 1e-5, `from ${c.layers[pooled].name} on: ${d.per.slice(pooled)}`);
    }
  } finally {
    await e.dispose();
  }
});
