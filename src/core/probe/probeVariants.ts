// In-memory model variants of the soft-rounding probe: hard (δ = 0), soft δ, latent. Each is the
// source ONNX with every probed weight written as a float initializer (Q/DQ chain removed) and the
// activation quantizers unchanged, serialised for onnxruntime.
import type { onnx } from '../onnx/proto';
import { encodeModel, replaceWeights } from './probeGraph';
import { softRound, type SoftRoundResult } from './probeMath';
import type { ProbeSource } from './probeSource';

export type VariantSpec = { kind: 'hard' } | { kind: 'soft'; delta: number } | { kind: 'latent' };

export interface VariantLayerStats {
  name: string;
  weights: number;
  inRange: number;
  clipped: number;
  /** Weights that kept their latent value (soft: in range with d < δ; latent: all). */
  soft: number;
}

export interface ProbeVariant {
  label: string;
  spec: VariantSpec;
  model: onnx.IModelProto;
  bytes: Uint8Array;
  layers: VariantLayerStats[];
  /** Weights that kept their latent value, over all probed layers. */
  soft: number;
  weights: number;
}

export function variantLabel(spec: VariantSpec): string {
  return spec.kind === 'hard' ? 'QAT (hard, δ=0)' : spec.kind === 'soft' ? `soft-round δ=${spec.delta}` : 'latent (unquantized weights)';
}

/**
 * Build one variant. `only`: soft-round (or un-quantize) just these layers, the rest hard —
 * the per-layer probe. Weight tensors of untouched layers are hard-quantized floats too, so every
 * variant runs the same graph.
 */
/** Hard (δ = 0) results per source, reused by the per-layer probe's many one-layer variants. */
const hardCache = new WeakMap<ProbeSource, Map<string, SoftRoundResult>>();

function hardOf(src: ProbeSource, l: ProbeSource['layers'][number]): SoftRoundResult {
  let m = hardCache.get(src);
  if (!m) hardCache.set(src, (m = new Map()));
  let r = m.get(l.chain.name);
  if (!r) m.set(l.chain.name, (r = softRound(l.latent, l.chain.shape, l.quant, 0, l.integers)));
  return r;
}

export function buildVariant(src: ProbeSource, spec: VariantSpec, only?: Set<string>): ProbeVariant {
  const weights = new Map<string, Float32Array>();
  const layers: VariantLayerStats[] = [];
  let soft = 0,
    total = 0;
  for (const l of src.layers) {
    const touched = !only || only.has(l.chain.name);
    const delta = touched && spec.kind === 'soft' ? spec.delta : 0;
    const r = delta === 0 ? hardOf(src, l) : softRound(l.latent, l.chain.shape, l.quant, delta, l.integers);
    let w = r.weights;
    let s = r.soft;
    if (touched && spec.kind === 'latent') {
      w = Float32Array.from(l.latent);
      s = l.latent.length;
    }
    weights.set(l.chain.name, w);
    layers.push({ name: l.chain.name, weights: l.latent.length, inRange: r.inRange, clipped: r.clipped, soft: s });
    soft += s;
    total += l.latent.length;
  }
  const label = variantLabel(spec) + (only ? ` [${[...only].join(', ')}]` : '');
  const model = replaceWeights(
    src.model,
    src.layers.map((l) => l.chain),
    weights,
    label,
  );
  return { label, spec, model, bytes: encodeModel(model), layers, soft, weights: total };
}
