// A γ/β gradient case on a model, independent of tfjs: the quantized layers and heads (as found by
// qc/heads.ts, recorded), deterministic images, γ, β and dHeads, and onnxruntime's plain inference
// of the ORIGINAL model's head values for comparison with the generated forward graph.
import * as ort from 'onnxruntime-node';
import { loadModel, onnx } from '../../src/core/onnx/proto';
import { createGradEngine } from '../../src/core/train/engine';
import type { QuantLayer } from '../../src/core/qc/heads';
import { uniform } from './opGrad';

export interface CaseSpec {
  file: string;
  size: [number, number];
  batch: number;
  seed: number;
  layers: QuantLayer[];
  heads: string[];
  /** Head shapes at this batch, [batch, C, ny, nx]. */
  headShapes: number[][];
}

export interface CaseInputs {
  images: Float32Array;
  gamma: Float32Array[];
  beta: Float32Array[];
  dHeads: Float32Array[];
}

/** Images in [0, 1), γ = 1 + 0.2·u, β = 0.05·u, dHeads = u, u uniform in ±0.5 (fixed seeds). */
export function caseInputs(c: CaseSpec): CaseInputs {
  const u = (n: number, seed: number) => uniform(n, seed, -0.5, 0.5);
  return {
    images: u(c.batch * 3 * c.size[0] * c.size[1], c.seed).map((v) => v + 0.5),
    gamma: c.layers.map((l, i) => u(l.channels, c.seed + 100 + i).map((v) => 1 + 0.2 * v)),
    beta: c.layers.map((l, i) => u(l.channels, c.seed + 900 + i).map((v) => 0.05 * v)),
    dHeads: c.headShapes.map((s, i) =>
      u(
        s.reduce((a, b) => a * b, 1),
        c.seed + 5000 + i,
      ),
    ),
  };
}

/** The original model's head values on onnxruntime's CPU engine (heads made graph outputs). */
export async function plainHeads(file: string, heads: string[], images: Float32Array, batch: number, size: [number, number]): Promise<Float32Array[]> {
  const m = loadModel(file);
  m.graph!.output = heads.map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } }));
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish(), { graphOptimizationLevel: 'all' });
  const input = m.graph!.input!.find((i) => !(m.graph!.initializer ?? []).some((t) => t.name === i.name))!.name!;
  const out = await s.run({ [input]: new ort.Tensor('float32', images, [batch, 3, ...size]) });
  await s.release();
  return heads.map((h) => out[h].data as Float32Array);
}

/** Largest |a − b| over the largest |b|, per array; the worst array and the largest absolute difference. */
export function maxRelDiff(a: Float32Array[], b: ArrayLike<number>[]): { worst: number; abs: number; at: number; per: number[] } {
  let worst = 0,
    abs = 0,
    at = -1;
  const per = b.map((ref, i) => {
    let big = 1e-12,
      m = 0;
    for (let k = 0; k < ref.length; k++) {
      big = Math.max(big, Math.abs(ref[k]));
      m = Math.max(m, Math.abs(a[i][k] - ref[k]));
    }
    if (m / big > worst) {
      worst = m / big;
      at = i;
    }
    abs = Math.max(abs, m);
    return m / big;
  });
  return { worst, abs, at, per };
}

/** The CPU gradient engine on a case: heads at γ = 1, β = 0 and at the case's γ/β, and dγ/dβ. */
export async function engineRun(c: CaseSpec) {
  const e = await createGradEngine(loadModel(c.file), c.file, { layers: c.layers, heads: c.heads, engine: 'cpu' });
  const inp = caseInputs(c);
  try {
    const gamma1 = c.layers.map((l) => new Float32Array(l.channels).fill(1)),
      beta0 = c.layers.map((l) => new Float32Array(l.channels));
    const plain = await e.forward(inp.images, c.batch, gamma1, beta0);
    const heads = await e.forward(inp.images, c.batch, inp.gamma, inp.beta);
    const grads = await e.backward(inp.images, c.batch, inp.gamma, inp.beta, inp.dHeads);
    return { device: e.device, inp, plain, heads, grads };
  } finally {
    await e.dispose();
  }
}
