// Reference γ/β gradients from the tfjs executor (qc/tfGraph.ts + train.ts's affineHooks): the vjp of
// sum(heads · dHeads) with respect to γ and β. Used while tfjs is the reference; the example's result
// is recorded in test/fixtures/train/ (tools/fixtures/train/make_vjp_fixture.ts) for tfjs-free tests.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { findHeads, findQuantLayers } from '../../src/core/qc/heads';
import { TfGraph } from '../../src/core/qc/tfGraph';
import { affineHooks } from '../../src/core/qc/train';
import { caseInputs, type CaseSpec } from './trainCase';

/** Layers, heads and head shapes of a model, found by qc/heads.ts (tfjs pure-JS CPU backend). */
export async function discoverCase(file: string, size: [number, number], batch: number, seed = 1): Promise<CaseSpec> {
  await tf.setBackend('cpu');
  const g = TfGraph.load(file);
  const layers = findQuantLayers(g);
  const heads = (await findHeads(g, size)).outputs;
  const outs = tf.tidy(() => g.run({ [g.inputs[0].name]: tf.zeros([batch, 3, size[0], size[1]]) }, { outputs: heads }));
  const headShapes = heads.map((h) => outs[h].shape);
  tf.dispose(Object.values(outs));
  g.dispose();
  return { file, size, batch, seed, layers, heads, headShapes };
}

/** tfjs heads (NCHW) under γ/β and the vjp of sum(heads · dHeads) w.r.t. γ and β. */
export async function tfjsVjp(c: CaseSpec): Promise<{ heads: Float32Array[]; dGamma: Float32Array[]; dBeta: Float32Array[] }> {
  await tf.setBackend('cpu');
  const inp = caseInputs(c);
  const g = TfGraph.load(c.file);
  const gv = c.layers.map((l, i) => tf.variable(tf.tensor1d(inp.gamma[i])));
  const bv = c.layers.map((l, i) => tf.variable(tf.tensor1d(inp.beta[i])));
  const hooks = affineHooks(c.layers, (l) => gv[c.layers.indexOf(l)], (l) => bv[c.layers.indexOf(l)]);
  const x = tf.tensor(inp.images, [c.batch, 3, c.size[0], c.size[1]]);
  const dh = inp.dHeads.map((d, i) => tf.tensor(d, c.headShapes[i]));
  const heads: Float32Array[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const outs = g.run({ [g.inputs[0].name]: x }, { outputs: c.heads, hooks });
    c.heads.forEach((h) => heads.push(outs[h].dataSync() as Float32Array));
    return tf.addN(c.heads.map((h, i) => tf.sum(tf.mul(outs[h], dh[i])))) as tf.Scalar;
  }, [...gv, ...bv]);
  const dGamma = gv.map((v) => grads[v.name].dataSync() as Float32Array);
  const dBeta = bv.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, x, ...dh, ...gv, ...bv, ...Object.values(grads)]);
  g.dispose();
  return { heads, dGamma, dBeta };
}
