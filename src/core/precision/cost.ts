// The cost of keeping a layer at a higher bit-width: its weight storage (integers packed at their
// width, plus float32 scales) and its multiply-accumulates per image (from the weight shape and the
// layer's output size, measured by running the model once), with bit-operations (MACs x weight bits
// x activation bits) at each width.
import * as ort from 'onnxruntime-node';
import { onnx } from '../onnx/proto';
import { encodeModel } from '../probe/probeGraph';
import { inputSize } from '../probe/probeOutputs';
import type { PrecisionLayer } from './source';

/** Bytes of n integers packed at `bits` each plus `scales` float32 scales. */
export function weightBytes(n: number, bits: number, scales: number): number {
  return Math.ceil((n * bits) / 8) + 4 * scales;
}

/** Output element count per image of each layer's consumer node, by layer key (one run of the model on a blank image). */
export async function outputSizes(model: onnx.IModelProto, layers: PrecisionLayer[]): Promise<Map<string, number>> {
  const graph = model.graph!;
  const outOf = new Map<string, string>();
  for (const l of layers) {
    const n = (graph.node ?? []).find((x) => x.input?.[1] === l.src.chain.dqOutput && x.opType === l.op);
    if (n?.output?.[0]) outOf.set(l.key, n.output[0]);
  }
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  const extra = [...new Set(outOf.values())].filter((o) => !existing.has(o)).map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } }));
  const m: onnx.IModelProto = { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } };
  const [h, w] = inputSize(model);
  const s = await ort.InferenceSession.create(encodeModel(m), { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 });
  try {
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]) }, [...new Set(outOf.values())]);
    const sizes = new Map<string, number>();
    for (const [k, o] of outOf)
      sizes.set(
        k,
        res[o].dims.reduce((a, b) => a * b, 1),
      );
    return sizes;
  } finally {
    await s.release();
  }
}

/** MACs per image: every weight is used once per output position of its channel. */
export function macsOf(l: PrecisionLayer, outputElements: number): number {
  const channels = l.shape[l.axis];
  return l.weights * (outputElements / channels);
}
