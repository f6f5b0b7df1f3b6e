// Static shapes of the forward graph's values, read by running it once on onnxruntime (batch 2, zero
// images): the backward needs them for broadcasting sums, ConvTranspose output padding, Slice pads.
// Batch 2, not 1, so that a batch axis is told apart from a broadcast axis of size 1.
import * as ort from 'onnxruntime-node';
import { onnx } from '../onnx/proto';
import type { ForwardGraph } from './forward';

export const PROBE_BATCH = 2;

/** `item`: the input's shape without the batch axis ([3, H, W] for images). */
export async function probeShapes(fwd: ForwardGraph, item: number[]): Promise<Map<string, number[]>> {
  const g = fwd.model.graph!;
  const values = [...new Set([...g.node!.flatMap((n) => n.output ?? []), ...fwd.sites.map((s) => s.pre)])].filter(Boolean);
  const shapeNodes = values.map((v, i) => onnx.NodeProto.create({ opType: 'Shape', input: [v], output: [`qc_shape_${i}`], name: `qc_shape_${i}` }));
  const graph = onnx.GraphProto.create({
    ...g,
    node: [...g.node!, ...shapeNodes],
    output: shapeNodes.map((n) => onnx.ValueInfoProto.create({ name: n.output![0], type: { tensorType: { elemType: 7 } } })),
  });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ ...fwd.model, graph })).finish();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  try {
    const n = item.reduce((a, c) => a * c, PROBE_BATCH);
    const feeds: Record<string, ort.Tensor> = { [fwd.input]: new ort.Tensor('float32', new Float32Array(n), [PROBE_BATCH, ...item]) };
    for (const s of fwd.sites) {
      const n = s.paramShape.reduce((a, c) => a * c, 1);
      feeds[s.gamma] = new ort.Tensor('float32', new Float32Array(n).fill(1), s.paramShape);
      feeds[s.beta] = new ort.Tensor('float32', new Float32Array(n), s.paramShape);
    }
    const out = await session.run(feeds);
    const shapes = new Map<string, number[]>();
    values.forEach((v, i) => shapes.set(v, Array.from(out[`qc_shape_${i}`].data as BigInt64Array, Number)));
    return shapes;
  } finally {
    await session.release();
  }
}
