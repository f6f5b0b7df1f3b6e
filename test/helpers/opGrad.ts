// Per-op backward checks through the real generator: a tiny graph x_in -> [x = x_in·γ + β] -> nodes
// -> y, with γ/β per ELEMENT (shape [1, ...]) so that dβ (at γ = 1, β = 0, batch 1) is exactly
// dL/dx for L = Σ y·dy. The graph goes through the same rewrite, probe and backward builder as a
// model does; the references (finite differences, or a direct formula) are computed here.
import * as ort from 'onnxruntime-node';
import { hasQdq, rewriteQdqToFloat, type FakeQuantChain } from '../../src/core/infer/qdqToFloat';
import { DataType, makeTensor, onnx } from '../../src/core/onnx/proto';
import type { QuantLayer } from '../../src/core/qc/heads';
import { buildBackward } from '../../src/core/train/backward';
import { TRAIN_OPSET, type ForwardGraph } from '../../src/core/train/forward';
import { probeShapes } from '../../src/core/train/shapes';

export type AttrV = number | number[] | string | { f: number };

export function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrV> = {}): onnx.NodeProto {
  const A = onnx.AttributeProto.AttributeType;
  return onnx.NodeProto.create({
    opType: op,
    input: inputs,
    output: outputs,
    name: `${op}_${outputs[0]}`,
    attribute: Object.entries(attrs).map(([name, v]) =>
      typeof v === 'string'
        ? { name, type: A.STRING, s: Buffer.from(v) }
        : typeof v === 'number'
          ? { name, type: A.INT, i: v }
          : Array.isArray(v)
            ? { name, type: A.INTS, ints: v }
            : { name, type: A.FLOAT, f: v.f },
    ),
  });
}
export const floats = (name: string, dims: number[], data: ArrayLike<number>) => makeTensor(name, dims, data, DataType.FLOAT);
export const int64s = (name: string, data: number[]) => makeTensor(name, [data.length], data.map(BigInt), DataType.INT64);

export interface OpSpec {
  /** Nodes reading 'x' (and initializers), writing 'y'. */
  nodes: onnx.INodeProto[];
  inits?: onnx.ITensorProto[];
  /** Shape of x without the batch axis. */
  item: number[];
}

const vi = (name: string, dims?: (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: 1, ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } : {}) } },
  });

function plainModel(spec: OpSpec): onnx.ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: TRAIN_OPSET }],
    graph: { name: 'op', node: spec.nodes, initializer: spec.inits ?? [], input: [vi('x', [1, ...spec.item])], output: [vi('y')] },
  });
}

/** y = f(x) on onnxruntime (float32), batch 1. */
export async function forwardY(spec: OpSpec, x: Float32Array): Promise<{ y: Float32Array; shape: number[] }> {
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(plainModel(spec)).finish());
  const out = await s.run({ x: new ort.Tensor('float32', x, [1, ...spec.item]) });
  await s.release();
  return { y: out.y.data as Float32Array, shape: [...out.y.dims] };
}

/** The generated backward graph's dL/dx for L = Σ y·dy (batch 1), and its node op types (gpu: the
 *  forms written for GPU engines, run here on the CPU). */
export async function generatedVjp(spec: OpSpec, x: Float32Array, dy: Float32Array, o: { gpu?: boolean } = {}): Promise<{ dx: Float32Array; ops: string[] }> {
  let model = plainModel(spec);
  let chains: FakeQuantChain[] = [];
  if (hasQdq(model)) ({ model, chains } = rewriteQdqToFloat(model, 'op'));
  const g = model.graph!;
  const P = [1, ...spec.item];
  const affine = [node('Mul', ['x_in', 'gamma'], ['x_scaled']), node('Add', ['x_scaled', 'beta'], ['x'])];
  const layer: QuantLayer = { name: 'site', op: 'Conv', output: 'x', channels: spec.item[0], dq: '', perTensor: true };
  const fwdModel = onnx.ModelProto.create({
    ...model,
    graph: { ...g, node: [...affine, ...g.node!], input: [vi('x_in', ['batch', ...spec.item]), vi('gamma', P), vi('beta', P)] },
  });
  const fwd: ForwardGraph = {
    file: 'op.onnx',
    model: fwdModel,
    input: 'x_in',
    inputDims: P,
    chains,
    heads: ['y'],
    sites: [{ layer, pre: 'x_in', gamma: 'gamma', beta: 'beta', paramShape: P, sumAxes: [0] }],
  };
  const shapes = await probeShapes(fwd, spec.item);
  const bwd = buildBackward(fwd, shapes, { gpu: o.gpu });
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(bwd.model).finish());
  const n = x.length;
  const out = await s.run(
    {
      x_in: new ort.Tensor('float32', x, P),
      gamma: new ort.Tensor('float32', new Float32Array(n).fill(1), P),
      beta: new ort.Tensor('float32', new Float32Array(n), P),
      [bwd.dHeads[0]]: new ort.Tensor('float32', dy, [1, ...shapes.get('y')!.slice(1)]),
    },
    [bwd.dBeta[0]!],
  );
  await s.release();
  return { dx: out[bwd.dBeta[0]!].data as Float32Array, ops: bwd.model.graph!.node!.map((nd) => nd.opType!) };
}

/** Central finite differences of L(x) = Σ f(x)·dy in float64, f given in JS. */
export function fdVjp(f: (x: Float64Array) => Float64Array, x: Float32Array, dy: Float32Array, h = 1e-4): Float64Array {
  const xd = Float64Array.from(x);
  const L = (v: Float64Array) => f(v).reduce((a, y, i) => a + y * dy[i], 0);
  return Float64Array.from(xd, (v, i) => {
    const p = Float64Array.from(xd);
    p[i] = v + h;
    const m = Float64Array.from(xd);
    m[i] = v - h;
    return (L(p) - L(m)) / (2 * h);
  });
}

/** dL/dx_i = Σ (f(x + e_i) − f(x))·dy for a LINEAR f run by onnxruntime (exact up to float32 sums). */
export async function linearVjp(spec: OpSpec, x: Float32Array, dy: Float32Array): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(plainModel(spec)).finish());
  const run = async (v: Float32Array) => (await s.run({ x: new ort.Tensor('float32', v, [1, ...spec.item]) })).y.data as Float32Array;
  const y0 = await run(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const p = Float32Array.from(x);
    p[i] += 1;
    const y = await run(p);
    let acc = 0;
    for (let k = 0; k < y.length; k++) acc += (y[k] - y0[k]) * dy[k];
    out[i] = acc;
  }
  await s.release();
  return out;
}

/** Largest |a − b| relative to the largest |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0,
    big = 1e-12;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    big = Math.max(big, Math.abs(b[i]));
  }
  return m / big;
}

/** Deterministic values in [lo, hi). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296));
}
