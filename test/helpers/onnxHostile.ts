// Small hand-made ONNX models for the hostile-file tests: one int8 Conv weight behind a
// DequantizeLinear, stored inline or as external data with any location/offset/length.
import { DataType, makeTensor, onnx } from '../../src/core/onnx/proto';

export const W_DIMS = [2, 1, 3, 3];
export const W_VALUES = Array.from({ length: 18 }, (_, i) => ((i * 5) % 16) - 8);

export interface ExternalSpec {
  location: string;
  offset?: string;
  length?: string;
}

/** A model whose weight `w` is int8 [2,1,3,3]; with `ext`, its bytes live in an external file. */
export function int8ConvModel(ext?: ExternalSpec, weightDims = W_DIMS, inputChannels = 1): onnx.ModelProto {
  const w = makeTensor('w', weightDims, weightDims.reduce((a, b) => a * b, 1) === W_VALUES.length ? W_VALUES : new Array(weightDims.reduce((a, b) => a * b, 1)).fill(0), DataType.INT8);
  if (ext) {
    w.rawData = new Uint8Array(0);
    w.dataLocation = 1;
    w.externalData = Object.entries(ext)
      .filter(([, v]) => v !== undefined)
      .map(([key, value]) => onnx.StringStringEntryProto.create({ key, value }));
  }
  const N = (opType: string, input: string[], output: string[]) => onnx.NodeProto.create({ opType, input, output, name: output[0] });
  const graph = onnx.GraphProto.create({
    name: 'g',
    input: [onnx.ValueInfoProto.create({ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: inputChannels }, { dimValue: 5 }, { dimValue: 5 }] } } } })],
    output: [onnx.ValueInfoProto.create({ name: 'y', type: { tensorType: { elemType: 1 } } })],
    initializer: [w, makeTensor('ws', [], [0.05], DataType.FLOAT), makeTensor('wz', [], [0], DataType.INT8)],
    node: [N('DequantizeLinear', ['w', 'ws', 'wz'], ['wf']), N('Conv', ['x', 'wf'], ['y'])],
  });
  return onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph });
}

export const encode = (m: onnx.IModelProto): Uint8Array => onnx.ModelProto.encode(m).finish();

/** The int8 weight bytes as a file would hold them. */
export const W_BYTES = Uint8Array.from(W_VALUES, (v) => v & 0xff);
