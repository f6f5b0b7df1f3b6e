// The fast per-layer probe: soft-round one layer at a time and measure how much the raw network
// outputs move against the hard model on a few evaluation images (no NMS, no mAP). Layers whose
// oscillating weights matter move the outputs most.
import * as ort from 'onnxruntime-node';
import { throwIfAborted } from '../errors';
import { openDataset } from '../data/dataset';
import { letterboxInto } from '../data/letterbox';
import type { JobContext } from '../context';
import { toNumber, type onnx } from '../onnx/proto';
import { buildVariant, type VariantSpec } from './probeVariants';
import type { ProbeSource } from './probeSource';

export interface LayerOutputChange {
  name: string;
  op: string;
  shape: number[];
  /** Weights soft-rounded in this layer (in range, d < δ). */
  softWeights: number;
  /** Mean over images and output elements of (y_soft - y_hard)^2, first graph output. */
  meanSquaredChange: number;
  /** meanSquaredChange / mean(y_hard^2): scale-free. */
  relativeChange: number;
  /** Share of output elements whose value changed at all. */
  changedFraction: number;
  /** mAP@.5:.95 / mAP@.5 with only this layer soft-rounded (top layers only, where asked). */
  map?: number;
  map50?: number;
  /** Flagged by the oscillation analysis (where the probe was given its result). */
  flagged?: boolean;
}

/** Input size [H, W] from the model's first input (NCHW), or `fallback` where dims are symbolic. */
export function inputSize(model: onnx.IModelProto, fallback = 640): [number, number] {
  const dims = model.graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const v = (i: number) => (dims[i]?.dimValue != null ? toNumber(dims[i].dimValue) : 0);
  return [v(2) > 0 ? v(2) : fallback, v(3) > 0 ? v(3) : fallback];
}

/** Letterboxed evaluation images as one NCHW batch tensor per image. */
export async function probeInputs(data: string, model: onnx.IModelProto, count: number): Promise<ort.Tensor[]> {
  const ds = await openDataset(data);
  const [h, w] = inputSize(model);
  const out: ort.Tensor[] = [];
  for (const im of ds.images.slice(0, count)) {
    const buf = new Float32Array(3 * h * w);
    await letterboxInto(im.file, w, h, buf);
    out.push(new ort.Tensor('float32', buf, [1, 3, h, w]));
  }
  return out;
}

export async function outputsOf(bytes: Uint8Array, inputs: ort.Tensor[]): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic', intraOpNumThreads: 2 });
  try {
    const inName = s.inputNames[0],
      outName = s.outputNames[0];
    const res: Float32Array[] = [];
    for (const x of inputs) res.push(Float32Array.from((await s.run({ [inName]: x }))[outName].data as Float32Array));
    return res;
  } finally {
    await s.release();
  }
}

/**
 * Rank layers by the output change soft rounding of that layer alone causes (δ), largest first.
 * `layers`: a subset of layer names (e.g. the analysis's flagged ones); default all.
 */
export async function perLayerOutputChange(src: ProbeSource, inputs: ort.Tensor[], delta: number, ctx: JobContext, layers?: string[]): Promise<LayerOutputChange[]> {
  const hard = await outputsOf(buildVariant(src, { kind: 'hard' }).bytes, inputs);
  let ref = 0,
    n = 0;
  for (const y of hard)
    for (let i = 0; i < y.length; i++) {
      ref += y[i] * y[i];
      n++;
    }
  const meanSq = ref / n;
  const names = layers ?? src.layers.map((l) => l.chain.name);
  const result: LayerOutputChange[] = [];
  const spec: VariantSpec = { kind: 'soft', delta };
  for (const [k, name] of names.entries()) {
    throwIfAborted(ctx.signal);
    ctx.progress({ message: `per-layer probe: ${name} (${k + 1}/${names.length})`, fraction: k / names.length });
    const layer = src.layers.find((l) => l.chain.name === name);
    if (!layer) continue;
    const v = buildVariant(src, spec, new Set([name]));
    const softWeights = v.layers.find((l) => l.name === name)!.soft;
    let se = 0,
      changed = 0;
    if (softWeights > 0) {
      const ys = await outputsOf(v.bytes, inputs);
      ys.forEach((y, j) => {
        const h = hard[j];
        for (let i = 0; i < y.length; i++) {
          const d = y[i] - h[i];
          se += d * d;
          if (d !== 0) changed++;
        }
      });
    }
    result.push({
      name,
      op: layer.chain.op,
      shape: layer.chain.shape,
      softWeights,
      meanSquaredChange: se / n,
      relativeChange: meanSq > 0 ? se / n / meanSq : 0,
      changedFraction: changed / n,
    });
  }
  return result.sort((a, b) => b.meanSquaredChange - a.meanSquaredChange);
}
