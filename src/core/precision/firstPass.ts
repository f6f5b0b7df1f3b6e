// The cheap first pass that ranks candidate layers before any mAP is scored: each layer's what-if
// model runs on a few evaluation images and its raw head outputs are compared with the QAT model's
// (the per-layer probe's output-change proxy) and, where a float model is given, with the float
// model's: how much of the QAT model's output error against float the layer's re-quantization
// removes. It is a proxy, not the mAP: the report gives its rank correlation with the scored gains.
import type * as ort from 'onnxruntime-node';
import { throwIfAborted } from '../errors';
import type { JobContext } from '../context';
import { outputsOf } from '../probe/probeOutputs';
import { buildWhatIf, type WhatIfOptions } from './whatIf';
import type { PrecisionSource } from './source';

export interface FirstPassScore {
  key: string;
  /** mean (y_whatif - y_qat)^2 / mean y_qat^2 over the first output. */
  change: number;
  /** 1 - mean (y_whatif - y_float)^2 / mean (y_qat - y_float)^2: share of the output error against float removed (float given only). */
  towardFloat?: number;
}

const mse = (a: Float32Array[], b: Float32Array[]): number => {
  let s = 0,
    n = 0;
  a.forEach((y, j) => {
    const r = b[j];
    for (let i = 0; i < y.length; i++) {
      const d = y[i] - r[i];
      s += d * d;
      n++;
    }
  });
  return s / n;
};

export async function firstPass(src: PrecisionSource, keys: string[], inputs: ort.Tensor[], o: WhatIfOptions, ctx: JobContext, floatBytes?: Uint8Array): Promise<FirstPassScore[]> {
  const base = await outputsOf(buildWhatIf(src, [], o).bytes, inputs);
  const ref = floatBytes ? await outputsOf(floatBytes, inputs) : undefined;
  const zeros = base.map((y) => new Float32Array(y.length));
  const meanSq = mse(base, zeros);
  const baseErr = ref ? mse(base, ref) : 0;
  const out: FirstPassScore[] = [];
  for (const [i, key] of keys.entries()) {
    throwIfAborted(ctx.signal);
    ctx.progress({ message: `first pass: ${key} (${i + 1}/${keys.length})`, fraction: i / keys.length });
    const ys = await outputsOf(buildWhatIf(src, [key], o).bytes, inputs);
    const s: FirstPassScore = { key, change: meanSq > 0 ? mse(ys, base) / meanSq : 0 };
    if (ref) s.towardFloat = baseErr > 0 ? 1 - mse(ys, ref) / baseErr : 0;
    out.push(s);
  }
  return out;
}

/** Spearman's rank correlation (average ranks for ties). */
export function spearman(x: number[], y: number[]): number {
  const rank = (v: number[]): number[] => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
      for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x),
    ry = rank(y);
  const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
  const mx = mean(rx),
    my = mean(ry);
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}
