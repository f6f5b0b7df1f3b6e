// The one in-memory model every reader produces and every analysis, probe and QC step consumes.
// Readers fill it from ONNX, PyTorch pickles and safetensors; nothing downstream knows the format.

/** How a quantizer maps floats to integers: q = clamp(roundHalfEven(x / s + z), qmin, qmax). */
export interface Quantizer {
  /** One value (per tensor) or one per slice along `axis` (per channel). Float64 for exact arithmetic. */
  scale: Float64Array;
  /** Same length as `scale`; usually all zeros. */
  zeroPoint: Float64Array;
  /** Axis of `scale` for per-channel quantizers (0 = output channels of a weight); null = per tensor. */
  axis: number | null;
  qmin: number;
  qmax: number;
  /** log2(qmax - qmin + 1). */
  bits: number;
  /** Where the integer range came from, so the report can say whether bits were read or assumed. */
  bitsSource: 'range' | 'clip' | 'attribute' | 'container' | 'user' | 'default';
  /** Quantizer family as found in the file, e.g. "onnx QDQ", "torch.ao FakeQuantize", "LSQ". */
  kind: string;
  /** Name of the tensor or module the quantizer was read from. */
  source?: string;
}

export interface WeightTensor {
  shape: number[];
  /** Latent (full-precision) weights, row-major. Absent when the file stores integers only. */
  latent?: Float32Array | Float64Array;
  /** Integer states when stored explicitly (int initializer + DequantizeLinear): they are the truth. */
  integer?: Int32Array;
  /** dtype as stored in the file: "float32", "float16", "bfloat16", "int8", "int4", ... */
  storedDtype: string;
}

export interface QuantizedLayer {
  /** ONNX: the weight initializer's name. PyTorch/safetensors: state_dict key without ".weight". */
  name: string;
  /** "Conv", "Gemm", "MatMul", "ConvTranspose", "Linear" (PyTorch), ... */
  op: string;
  weight: WeightTensor;
  weightQuantizer: Quantizer;
  /** The activation quantizer feeding this layer's input, where there is one. */
  inputQuantizer?: Quantizer;
  /** The activation quantizer following this layer's output, where there is one. */
  outputQuantizer?: Quantizer;
  bias?: Float32Array;
  /** Place in the graph, where the format has one. */
  graph?: { node: string; inputs: string[]; outputs: string[] };
}

/** An activation quantizer on its own (ONNX activation Q/DQ pair, PyTorch activation fake-quant). */
export interface ActivationQuantizer {
  name: string;
  quantizer: Quantizer;
}

export type ModelFormat = 'onnx' | 'pytorch' | 'safetensors';

/** One set of weights. A YOLOv5 training checkpoint holds two: `model` and `ema`. */
export interface QuantModel {
  /** "model", "ema", "state_dict", or "graph" (ONNX). */
  variant: string;
  layers: QuantizedLayer[];
  activations: ActivationQuantizer[];
}

export interface Checkpoint {
  file: string;
  format: ModelFormat;
  /** Training epoch where the file records it (YOLOv5: `epoch`). */
  epoch?: number;
  /** Class name of the pickled model where known, e.g. "models.yolo.DetectionModel". */
  modelClass?: string;
  variants: QuantModel[];
  /** Things the report should say: inferred bit-widths, skipped tensors, precision of storage. */
  notes: string[];
}

export interface ReadOptions {
  /** Bit-width to use where the file does not say (`--bits`, setting `qatLens.bits`). */
  bits?: number;
}

export const bitsOfRange = (qmin: number, qmax: number): number => Math.log2(qmax - qmin + 1);
