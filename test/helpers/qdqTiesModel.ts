// A graph of Q/DQ corner cases: half-to-even ties, zero points, a 4-bit Clip range, per-axis weights.
// x -> Q(s .5, z 0 int8) -> Clip(-8, 7) -> DQ -> a;  x -> Q(s .25, z 3 uint8) -> DQ -> MatMul(DQ(int8 W, per column)) -> b
import * as ort from 'onnxruntime-node';
import { DataType, makeTensor, onnx } from '../../src/core/onnx/proto';

export function tiesModel(): onnx.IModelProto {
  const T = (name: string, dims: number[], v: number[], dt: number) => makeTensor(name, dims, v, dt);
  const N = (opType: string, input: string[], output: string[], attrs: onnx.IAttributeProto[] = []) => onnx.NodeProto.create({ opType, input, output, name: output[0], attribute: attrs });
  const graph = onnx.GraphProto.create({
    name: 'ties',
    input: [onnx.ValueInfoProto.create({ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 8 }] } } } })],
    output: ['a', 'b'].map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } })),
    initializer: [
      T('s1', [], [0.5], DataType.FLOAT),
      T('z1', [], [0], DataType.INT8),
      T('lo', [], [-8], DataType.INT8),
      T('hi', [], [7], DataType.INT8),
      T('s2', [], [0.25], DataType.FLOAT),
      T('z2', [], [3], DataType.UINT8),
      T(
        'w',
        [8, 2],
        [1, -2, 3, -4, 5, -6, 7, -8, -1, 2, -3, 4, -5, 6, -7, 8].map((v) => Math.max(-8, Math.min(7, v))),
        DataType.INT8,
      ),
      T('ws', [2], [0.125, 0.5], DataType.FLOAT),
      T('wz', [2], [0, 1], DataType.INT8),
    ],
    node: [
      N('QuantizeLinear', ['x', 's1', 'z1'], ['q1']),
      N('Clip', ['q1', 'lo', 'hi'], ['c1']),
      N('DequantizeLinear', ['c1', 's1', 'z1'], ['a']),
      N('QuantizeLinear', ['x', 's2', 'z2'], ['q2']),
      N('DequantizeLinear', ['q2', 's2', 'z2'], ['d2']),
      N('DequantizeLinear', ['w', 'ws', 'wz'], ['wf'], [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })]),
      N('MatMul', ['d2', 'wf'], ['b']),
    ],
  });
  return onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph });
}

// x / .5 = -8.5, -1.5, -.5, .5, 1.5, 2.5, 7.5, 200: every one a tie but the last.
export const TIES_X = Float32Array.of(-4.25, -0.75, -0.25, 0.25, 0.75, 1.25, 3.75, 100);
/** Output a: half to even, then the 4-bit clip. */
export const TIES_A = [-4, -1, 0, 0, 1, 1, 3.5, 3.5];

/** Outputs a and b of a ties graph (or its rewrite) on an onnxruntime engine, fed TIES_X. */
export async function runTies(model: onnx.IModelProto, ep: 'cpu' | 'webgpu' = 'cpu'): Promise<[number[], number[]]> {
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { executionProviders: [ep] });
  const r = await s.run({ x: new ort.Tensor('float32', TIES_X, [1, 8]) });
  await s.release();
  // + 0: Round(-0.5) is -0 in float, 0 as an integer; equal as numbers.
  return [Array.from(r.a.data as Float32Array, (v) => v + 0), Array.from(r.b.data as Float32Array, (v) => v + 0)];
}
