// A tiny real QDQ ONNX model built in code for the probe tests: activation Q/DQ, then a 4-bit
// per-channel quantized Conv, written in both weight patterns (latent float W -> Q -> Clip -> DQ,
// and int8 integers -> DQ). Weights are seeded and include exact rounding ties and clipped values.
import { DataType, makeTensor, onnx } from '../../src/core/onnx/proto';

export const SHAPE = [4, 3, 3, 3];
export const SCALES = [0.125, 0.0625, 0.25, 0.1]; // powers of two make W/s ties exact
export const QMIN = -8,
  QMAX = 7;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
}

/** Latent weights: mostly uniform over the grid, some exact ties, some near thresholds, some clipped. */
export function latentWeights(): Float32Array {
  const r = rng(7);
  const n = SHAPE.reduce((a, b) => a * b, 1);
  const per = n / SHAPE[0];
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = SCALES[Math.floor(i / per)];
    const k = i % 9;
    let u: number;
    if (k === 0)
      u = Math.floor(r() * 14) - 7 + 0.5; // exact tie
    else if (k === 1)
      u = Math.floor(r() * 14) - 7 + 0.5 + (r() - 0.5) * 0.08; // near a threshold
    else if (k === 2)
      u = (r() < 0.5 ? -1 : 1) * (8.2 + r() * 2); // clipped
    else u = -8.4 + r() * 15.8;
    w[i] = u * s;
  }
  return w;
}

function node(opType: string, inputs: string[], outputs: string[], attrs: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0]}`, attribute: attrs };
}
const axis0: onnx.IAttributeProto = { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 };

/** The model, in either weight pattern. `integers` is used for the integer pattern. */
export function buildModel(pattern: 'latent' | 'integer', integers?: ArrayLike<number>): onnx.IModelProto {
  const inits: onnx.ITensorProto[] = [
    makeTensor('act_s', [], [0.05], DataType.FLOAT),
    makeTensor('act_z', [], [0], DataType.INT8),
    makeTensor('w_s', [4], SCALES, DataType.FLOAT),
    makeTensor('w_z', [4], [0, 0, 0, 0], DataType.INT8),
    makeTensor('conv.bias', [4], [0.1, -0.2, 0.05, 0], DataType.FLOAT),
  ];
  const nodes: onnx.INodeProto[] = [node('QuantizeLinear', ['x', 'act_s', 'act_z'], ['x_q']), node('DequantizeLinear', ['x_q', 'act_s', 'act_z'], ['x_dq'])];
  if (pattern === 'latent') {
    inits.push(makeTensor('conv.weight', SHAPE, latentWeights(), DataType.FLOAT));
    inits.push(makeTensor('clip_lo', [], [QMIN], DataType.INT8), makeTensor('clip_hi', [], [QMAX], DataType.INT8));
    nodes.push(node('QuantizeLinear', ['conv.weight', 'w_s', 'w_z'], ['w_q'], [axis0]));
    nodes.push(node('Clip', ['w_q', 'clip_lo', 'clip_hi'], ['w_qc']));
    nodes.push(node('DequantizeLinear', ['w_qc', 'w_s', 'w_z'], ['w_dq'], [axis0]));
  } else {
    inits.push(makeTensor('conv.weight_quantized', SHAPE, integers!, DataType.INT8));
    nodes.push(node('DequantizeLinear', ['conv.weight_quantized', 'w_s', 'w_z'], ['w_dq'], [axis0]));
  }
  nodes.push(node('Conv', ['x_dq', 'w_dq', 'conv.bias'], ['y'], [{ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] }]));
  const vi = (name: string, dims: number[], elemType: number = DataType.FLOAT): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const outputs = [vi('y', [1, 4, 6, 6])];
  // The latent model also exposes the clipped integers QuantizeLinear computed, to compare with ours.
  if (pattern === 'latent') outputs.push(vi('w_qc', SHAPE, DataType.INT8));
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'qat-lens test',
    graph: { name: 'probe_fixture', node: nodes, initializer: inits, input: [vi('x', [1, 3, 6, 6])], output: outputs },
  };
}

export function input(): Float32Array {
  const r = rng(11);
  return Float32Array.from({ length: 3 * 36 }, () => (r() - 0.3) * 4);
}
