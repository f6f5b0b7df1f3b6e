// Where the probe's latent weights come from: the QDQ ONNX itself (float W -> Q -> Clip -> DQ), or,
// for an ONNX that stores integers only, a PyTorch checkpoint matched layer by layer (name, then
// shape). The ONNX's scales and stored integers stay the truth; the checkpoint only lends W.
import { QatLensError } from '../errors';
import type { QuantizedLayer, QuantModel } from '../model';
import { loadModel, onnx } from '../onnx/proto';
import { readCheckpoint } from '../readers';
import { findWeightChains, type WeightChain } from './probeGraph';
import { hardIntegers, type WeightQuant } from './probeMath';

export interface ProbeLayerSource {
  chain: WeightChain;
  latent: Float32Array | Float64Array;
  /** Stored integers (the truth) where the ONNX has them; else computed by QuantizeLinear at run time. */
  integers?: Int32Array;
  quant: WeightQuant;
  /** The checkpoint layer that lent the latent weights, where one did. */
  latentName?: string;
}

export interface ProbeSource {
  file: string;
  model: onnx.IModelProto;
  layers: ProbeLayerSource[];
  /** "the ONNX model's float initializers" or "FILE (variant ema)". */
  latentFrom: string;
  /** Stored integers that differ from clamp(roundHalfEven(W/s + z)) over all layers (PyTorch ties, or a mismatch). */
  integerMismatches: number;
  weights: number;
  notes: string[];
}

/** Share of stored integers allowed to disagree with the checkpoint's latent weights before we call it a mismatch. */
const MAX_MISMATCH = 0.01;

const norm = (s: string): string =>
  s
    .replace(/[/:]/g, '.')
    .replace(/(_quantized|_quant|_int8|_int4|_int|_q|_dequantized)$/, '')
    .replace(/\.weight$/, '')
    .replace(/^model\./, '');

/** Pair each integer-only ONNX weight with a checkpoint layer: by normalised name, else by order and shape. */
function matchLayers(chains: WeightChain[], layers: QuantizedLayer[], onnxFile: string, ptFile: string): (QuantizedLayer | undefined)[] {
  const byName = new Map(layers.map((l) => [norm(l.name), l]));
  const named = chains.map((c) => byName.get(norm(c.name)));
  const sameShape = (c: WeightChain, l?: QuantizedLayer) => !!l && l.weight.shape.join('x') === c.shape.join('x');
  if (named.every((l, i) => sameShape(chains[i], l))) return named;
  const bad = chains.findIndex((c, i) => !sameShape(c, named[i]));
  // Fallback: the same quantized layers in the same order with the same shapes.
  const withLatent = layers.filter((l) => l.weight.latent);
  if (withLatent.length === chains.length && chains.every((c, i) => sameShape(c, withLatent[i]))) return withLatent;
  const c = chains[bad];
  const l = named[bad];
  throw new QatLensError(
    l
      ? `layer '${c.name}' has shape [${c.shape.join(', ')}] in the ONNX but '${l.name}' in ${ptFile} has [${l.weight.shape.join(', ')}]: the checkpoint does not belong to this model`
      : `no layer of ${ptFile} matches ONNX weight '${c.name}' [${c.shape.join(', ')}] by name, and the ${withLatent.length} quantized layers of the checkpoint do not line up with the ONNX's ${chains.length} by order and shape`,
    onnxFile,
    'EMISMATCH',
  );
}

/**
 * Load a QDQ ONNX and its latent weights. `pt` (a checkpoint with latent weights) is needed when
 * the ONNX stores integers only; `variant` picks its `model` or `ema` weights (default: the one
 * whose rounding reproduces the ONNX integers best).
 */
export async function loadProbeSource(file: string, opts: { pt?: string; variant?: string } = {}): Promise<ProbeSource> {
  const model = loadModel(file);
  const chains = findWeightChains(model, file);
  if (chains.length === 0)
    throw new QatLensError('no quantized weights found (expected Conv/Gemm weights behind QuantizeLinear -> DequantizeLinear, or integer weights behind DequantizeLinear)', file, 'ENOQUANT');
  const notes: string[] = [];
  const integerChains = chains.filter((c) => c.pattern === 'integer');
  if (integerChains.length === 0) {
    if (opts.pt) notes.push(`the ONNX model carries its own latent weights; ${opts.pt} was not needed and not used`);
    const layers = chains.map((chain) => ({ chain, latent: chain.latent!, quant: chain.quant }));
    // Say the pattern the graph has: QuantizeLinear -> DequantizeLinear exports (no Clip) are common.
    const clipped = chains.filter((c) => c.chainNodes.some((n) => n.opType === 'Clip')).length;
    const pattern =
      clipped === chains.length
        ? 'QuantizeLinear -> Clip -> DequantizeLinear'
        : clipped === 0
          ? 'QuantizeLinear -> DequantizeLinear'
          : `QuantizeLinear -> [Clip ->] DequantizeLinear, Clip on ${clipped} of ${chains.length}`;
    return { file, model, layers, latentFrom: `the ONNX model's float weight initializers (${pattern})`, integerMismatches: 0, weights: count(layers), notes };
  }
  if (!opts.pt) {
    throw new QatLensError(
      `stores ${integerChains.length} layers as integers only (no latent weights to soft-round); pass --pt CHECKPOINT with the latent weights, or use an ONNX export with float weights (QuantizeLinear -> [Clip ->] DequantizeLinear)`,
      file,
      'ENOLATENT',
    );
  }
  const ckpt = await readCheckpoint(opts.pt);
  let variants: QuantModel[] = ckpt.variants.filter((v) => v.layers.some((l) => l.weight.latent));
  if (opts.variant) variants = variants.filter((v) => v.variant === opts.variant);
  if (variants.length === 0)
    throw new QatLensError(
      opts.variant ? `has no variant '${opts.variant}' with latent weights (has: ${ckpt.variants.map((v) => v.variant).join(', ')})` : 'holds no latent (float) quantized weights',
      opts.pt,
      'ENOLATENT',
    );
  let best: { v: QuantModel; layers: ProbeLayerSource[]; mismatches: number } | undefined;
  let lastErr: unknown;
  for (const v of variants) {
    let matched: (QuantizedLayer | undefined)[];
    try {
      matched = matchLayers(chains, v.layers, file, opts.pt);
    } catch (err) {
      lastErr = err;
      continue;
    }
    let mismatches = 0;
    const layers: ProbeLayerSource[] = chains.map((chain, i) => {
      if (chain.pattern === 'latent') return { chain, latent: chain.latent!, quant: chain.quant };
      const l = matched[i]!;
      // The ONNX scale is the truth; the integer range comes from the checkpoint's quantizer
      // (an int8 container says nothing about 4 bits).
      const quant: WeightQuant = { ...chain.quant, qmin: l.weightQuantizer.qmin, qmax: l.weightQuantizer.qmax };
      const latent = l.weight.latent!;
      const hard = hardIntegers(latent, chain.shape, quant);
      for (let k = 0; k < hard.length; k++) if (hard[k] !== chain.integers![k]) mismatches++;
      return { chain, latent, integers: chain.integers, quant, latentName: l.name };
    });
    if (!best || mismatches < best.mismatches) best = { v, layers, mismatches };
  }
  if (!best) throw lastErr;
  const weights = count(best.layers);
  if (best.mismatches > MAX_MISMATCH * weights) {
    throw new QatLensError(
      `the latent weights of ${opts.pt} (${best.v.variant}) round to integers that differ from the ONNX's stored integers in ${best.mismatches} of ${weights} weights (${((100 * best.mismatches) / weights).toFixed(2)}%): they are not the weights this ONNX was exported from`,
      file,
      'EMISMATCH',
    );
  }
  const half = best.v.layers.filter((l) => /float16/.test(l.weight.storedDtype)).length;
  if (half)
    notes.push(
      `${opts.pt} stores its weights in ${best.v.layers[0].weight.storedDtype === 'bfloat16' ? 'bfloat16' : 'float16'} (as YOLOv5 checkpoints do): the latent values are rounded to half precision, so a few near-tie weights round differently than in the float32 export`,
    );
  notes.push(
    `latent weights from ${opts.pt} (${best.v.variant}); ${best.mismatches} of ${weights} stored integers differ from clamp(roundHalfEven(W/s)) of them (rounding ties or float noise); the stored integers are used as the hard states`,
  );
  return { file, model, layers: best.layers, latentFrom: `${opts.pt} (${best.v.variant})`, integerMismatches: best.mismatches, weights, notes };
}

function count(layers: ProbeLayerSource[]): number {
  return layers.reduce((a, l) => a + l.latent.length, 0);
}
