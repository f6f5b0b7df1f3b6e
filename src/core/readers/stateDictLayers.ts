// Turns a flat name -> tensor map (a state_dict, a safetensors file, or the walk of a pickled module)
// into quantized layers. Shared by the PyTorch and safetensors readers, so both name and detect the same.
//
// Quantizers are recognised by their parameters' names:
//   torch.ao FakeQuantize / _LearnableFakeQuantize: <q>.scale + <q>.zero_point
//   LSQ: <q>.s | <q>.alpha | <q>.step_size (| <q>.scale without zero_point)
//   NVIDIA pytorch-quantization TensorQuantizer: <q>._amax (scale = amax / qmax)
//   Brevitas: <q>.tensor_quant.scaling_impl.value (scale = value / qmax)
// A quantizer <owner>.<name> belongs to layer <owner> (whose <owner>.weight exists) as its weight,
// input or output quantizer according to <name>; others are stand-alone activation quantizers.
import type { ActivationQuantizer, QuantizedLayer, Quantizer, QuantModel, ReadOptions } from '../model';
import { FormatError } from '../errors';
import type { FlatTensor } from './tensorData';
import { bitsOfQuantRange } from './quantRange';

export type Scalar = number | boolean | string;

export interface FlatModel {
  tensors: Map<string, FlatTensor>;
  /** Scalar attributes of pickled modules by dotted path (e.g. "model.2.weight_quantizer.bits"). */
  attrs: Map<string, Scalar>;
  /** Class name of each module by dotted path, where known (pickled modules). */
  classes: Map<string, string>;
}

type Role = 'weight' | 'input' | 'output';
type Family = 'torch.ao FakeQuantize' | 'LSQ' | 'pytorch-quantization TensorQuantizer' | 'Brevitas';

interface Group {
  root: string;
  family: Family;
  /** Tensor key holding the scale (or amax / Brevitas value). */
  scaleKey: string;
  zeroPointKey?: string;
  /** The scale tensor is a threshold (amax, Brevitas value): scale = value / qmax. */
  threshold: boolean;
}

const WEIGHT_ROLE = /weight|(^|_)w(_|$)|quan_w|^wq/i;
const OUTPUT_ROLE = /activation_post_process|^out|output/i;

const roleOf = (name: string): Role => (WEIGHT_ROLE.test(name) ? 'weight' : OUTPUT_ROLE.test(name) ? 'output' : 'input');

/** Find quantizer groups among the tensor names. */
function findGroups(tensors: Map<string, FlatTensor>): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const key of tensors.keys()) {
    const parts = key.split('.');
    const leaf = parts[parts.length - 1];
    const parent = parts.slice(0, -1);
    if (parent.length === 0) continue;
    const parentKey = parent.join('.');
    let g: Group | undefined;
    if (leaf === 'value' && parent[parent.length - 1] === 'scaling_impl') {
      const cut = parent.findIndex((p) => p === 'tensor_quant' || p === 'fused_activation_quant_proxy' || p === 'scaling_impl');
      const root = parent.slice(0, cut).join('.');
      if (root) g = { root, family: 'Brevitas', scaleKey: key, threshold: true };
    } else if (leaf === '_amax' || leaf === 'amax') {
      g = { root: parentKey, family: 'pytorch-quantization TensorQuantizer', scaleKey: key, threshold: true };
    } else if (leaf === 'scale' && tensors.has(`${parentKey}.zero_point`)) {
      g = { root: parentKey, family: 'torch.ao FakeQuantize', scaleKey: key, zeroPointKey: `${parentKey}.zero_point`, threshold: false };
    } else if (leaf === 's' || leaf === 'alpha' || leaf === 'step_size' || (leaf === 'scale' && /quant|lsq|fake|quan/i.test(parent[parent.length - 1]))) {
      g = { root: parentKey, family: 'LSQ', scaleKey: key, threshold: false };
    }
    if (g && !groups.has(g.root)) groups.set(g.root, g);
  }
  return groups;
}

/** Scalar attributes of a quantizer: pickled module attributes and one-element tensors below its root. */
function groupAttrs(flat: FlatModel, root: string): Map<string, Scalar> {
  const out = new Map<string, Scalar>();
  const prefix = `${root}.`;
  const found: [number, string, Scalar][] = [];
  for (const [k, v] of flat.attrs) if (k.startsWith(prefix)) found.push([k.split('.').length, k.slice(k.lastIndexOf('.') + 1), v]);
  for (const [k, t] of flat.tensors) {
    if (!k.startsWith(prefix) || t.shape.reduce((a, b) => a * b, 1) !== 1) continue;
    found.push([k.split('.').length + 0.5, k.slice(k.lastIndexOf('.') + 1), t.toFloat64()[0]]);
  }
  found.sort((a, b) => a[0] - b[0]); // shallowest first: the quantizer's own attribute wins over a sub-module's
  for (const [, name, v] of found) if (!out.has(name)) out.set(name, v);
  return out;
}

const num = (v: Scalar | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'boolean' ? Number(v) : undefined);
const bool = (v: Scalar | undefined): boolean | undefined => (typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : undefined);

interface RangeInfo {
  qmin: number;
  qmax: number;
  source: Quantizer['bitsSource'];
  from: string;
}

/** The integer range from the quantizer's attributes, else --bits, else undefined. */
function rangeOf(a: Map<string, Scalar>, family: Family, role: Role, opts: ReadOptions): RangeInfo | undefined {
  // Qn (LSQ paper) is a magnitude, thd_neg (lsq-net) is negative already: a positive lower bound is negated.
  const pair = (lo: string, hi: string, magnitude = false): RangeInfo | undefined => {
    const l = num(a.get(lo)),
      h = num(a.get(hi));
    if (l === undefined || h === undefined) return undefined;
    return { qmin: magnitude && l > 0 ? -l : l, qmax: h, source: 'attribute', from: `${lo}/${hi}` };
  };
  const r = pair('quant_min', 'quant_max') ?? pair('qmin', 'qmax') ?? pair('Qn', 'Qp', true) ?? pair('thd_neg', 'thd_pos', true);
  if (r) return r;
  const bitNames = ['bits', 'num_bits', '_num_bits', 'nbits', 'n_bits', 'bit', 'bit_width', 'bitwidth'];
  const bitName = bitNames.find((n) => num(a.get(n)) !== undefined);
  let bits = bitName ? num(a.get(bitName))! : undefined;
  let source: Quantizer['bitsSource'] = 'attribute';
  if (bits === undefined && opts.bits !== undefined) {
    bits = opts.bits;
    source = 'user';
  }
  if (bits === undefined) return undefined;
  const unsigned = bool(a.get('_unsigned')) ?? bool(a.get('unsigned')) ?? (bool(a.get('signed')) === undefined ? undefined : !bool(a.get('signed'))) ?? bool(a.get('all_positive')) ?? false;
  // Brevitas weight quantizers default to a narrow range (-(2^(b-1)-1) .. 2^(b-1)-1).
  const narrow = bool(a.get('_narrow_range')) ?? bool(a.get('narrow_range')) ?? (family === 'Brevitas' && role === 'weight');
  const qmax = unsigned ? 2 ** bits - 1 : 2 ** (bits - 1) - 1;
  const qmin = unsigned ? 0 : narrow ? -qmax : -(2 ** (bits - 1));
  return { qmin, qmax, source, from: source === 'user' ? '--bits' : bitName! };
}

export interface LayersResult {
  model: QuantModel;
  notes: string[];
  /** Float weights (rank >= 2) without a weight quantizer. */
  floatLayers: string[];
}

export function layersFromFlat(file: string, flat: FlatModel, variant: string, opts: ReadOptions = {}): LayersResult {
  const groups = findGroups(flat.tensors);
  const missingBits: string[] = [];
  const sources = new Map<string, number>();

  const buildQuantizer = (g: Group, role: Role): Quantizer | undefined => {
    const a = groupAttrs(flat, g.root);
    const range = rangeOf(a, g.family, role, opts);
    if (!range) {
      missingBits.push(g.root);
      return undefined;
    }
    if (range.qmin >= range.qmax) throw new FormatError(`quantizer '${g.root}' has an empty integer range [${range.qmin}, ${range.qmax}]`, file);
    const t = flat.tensors.get(g.scaleKey)!;
    const raw = t.toFloat64();
    const scale = g.threshold ? raw.map((v) => v / range.qmax) : Float64Array.from(raw);
    for (let i = 0; i < raw.length; i++) {
      const s = raw[i];
      if (!(s > 0) || !Number.isFinite(s)) {
        const kind = Number.isNaN(s) ? 'NaN' : s === 0 ? 'zero' : s < 0 ? 'negative' : 'infinite';
        throw new FormatError(`${kind} ${g.threshold ? 'range' : 'scale'} ${s} in tensor '${variantKey(variant, g.scaleKey)}'${raw.length > 1 ? ` at index ${i}` : ''}`, file);
      }
    }
    let zeroPoint = new Float64Array(scale.length);
    if (g.zeroPointKey) {
      const z = flat.tensors.get(g.zeroPointKey)!.toFloat64();
      if (z.length === scale.length) zeroPoint = Float64Array.from(z);
      else if (z.length === 1) zeroPoint.fill(z[0]);
      else throw new FormatError(`zero point '${g.zeroPointKey}' has ${z.length} values, scale has ${scale.length}`, file);
    }
    const axisAttr = num(a.get('ch_axis')) ?? num(a.get('_axis')) ?? num(a.get('axis'));
    const axis = scale.length > 1 ? (axisAttr !== undefined && axisAttr >= 0 ? axisAttr : role === 'weight' ? 0 : 1) : null;
    const tag = `${g.family}: ${range.source === 'user' ? '--bits' : range.from}`;
    sources.set(tag, (sources.get(tag) ?? 0) + 1);
    return {
      scale,
      zeroPoint,
      axis,
      qmin: range.qmin,
      qmax: range.qmax,
      bits: bitsOfQuantRange(range.qmin, range.qmax),
      bitsSource: range.source,
      kind: g.family,
      source: g.root,
    };
  };

  // Attach quantizers to layers.
  const byOwner = new Map<string, Group[]>();
  for (const g of groups.values()) {
    const cut = g.root.lastIndexOf('.');
    const owner = cut < 0 ? '' : g.root.slice(0, cut);
    (byOwner.get(owner) ?? byOwner.set(owner, []).get(owner)!).push(g);
  }
  const used = new Set<string>();
  const bnFolded: string[] = [];
  const layers: QuantizedLayer[] = [];
  const floatLayers: string[] = [];
  for (const [key, t] of flat.tensors) {
    if (!(key === 'weight' || key.endsWith('.weight')) || t.shape.length < 2) continue;
    if (!['float32', 'float16', 'bfloat16', 'float64'].includes(t.dtype)) continue;
    const name = key === 'weight' ? '' : key.slice(0, -'.weight'.length);
    if (groups.has(name)) continue; // a quantizer's own parameter, not a layer
    const own = byOwner.get(name) ?? [];
    const wg = own.find((g) => roleOf(g.root.slice(name.length + 1)) === 'weight');
    if (!wg) {
      floatLayers.push(name);
      continue;
    }
    const wq = buildQuantizer(wg, 'weight');
    used.add(wg.root);
    if (!wq) continue;
    let latent = t.toFloat();
    const bn = foldedBatchNorm(flat, name, t.shape[0]);
    if (bn) {
      latent = bn.foldWeight(latent);
      bnFolded.push(name);
    }
    if (wq.axis !== null && (wq.axis >= t.shape.length || t.shape[wq.axis] !== wq.scale.length)) {
      throw new FormatError(`quantizer '${wg.root}' has ${wq.scale.length} scales but weight '${key}' has shape [${t.shape.join(', ')}]`, file);
    }
    const layer: QuantizedLayer = {
      name,
      op: opOf(flat.classes.get(name), t.shape.length),
      weightQuantizer: wq,
      weight: { shape: t.shape, latent, storedDtype: t.dtype },
    };
    for (const g of own) {
      if (g === wg) continue;
      const role = roleOf(g.root.slice(name.length + 1));
      if (role === 'weight') continue;
      const q = buildQuantizer(g, role);
      used.add(g.root);
      if (!q) continue;
      if (role === 'input' && !layer.inputQuantizer) layer.inputQuantizer = q;
      if (role === 'output' && !layer.outputQuantizer) layer.outputQuantizer = q;
    }
    const bias = flat.tensors.get(name ? `${name}.bias` : 'bias');
    if (bias && bias.shape.length === 1) layer.bias = Float32Array.from(bias.toFloat());
    if (bn) layer.bias = bn.foldBias(layer.bias);
    layers.push(layer);
  }
  const activations: ActivationQuantizer[] = [];
  for (const l of layers) {
    if (l.inputQuantizer) activations.push({ name: l.inputQuantizer.source!, quantizer: l.inputQuantizer });
    if (l.outputQuantizer) activations.push({ name: l.outputQuantizer.source!, quantizer: l.outputQuantizer });
  }
  for (const g of groups.values()) {
    if (used.has(g.root)) continue;
    const role = roleOf(g.root.slice(g.root.lastIndexOf('.') + 1));
    if (role === 'weight') continue; // a weight quantizer whose weight is missing: nothing to analyse
    const q = buildQuantizer(g, role);
    if (q) activations.push({ name: g.root, quantizer: q });
  }
  if (missingBits.length) {
    throw new FormatError(
      `the bit-width of ${missingBits.length} quantizer(s) is not recorded in the file (e.g. '${variantKey(variant, missingBits[0])}'): pass --bits N (setting qatLens.bits)`,
      file,
    );
  }
  const notes: string[] = [];
  const pre = variant === 'state_dict' ? '' : `${variant}: `;
  for (const [tag, n] of sources) {
    const [family, from] = tag.split(': ');
    notes.push(
      from === '--bits'
        ? `${pre}${n} ${family} quantizer(s) do not record their bit-width; --bits ${opts.bits} was used (signed range unless the file says unsigned)`
        : `${pre}${n} ${family} quantizer(s): integer range inferred from the attribute(s) ${from}`,
    );
  }
  if (bnFolded.length)
    notes.push(
      `${pre}${bnFolded.length} layer(s) quantize their weight with BatchNorm folded in (torch.ao ConvBn): latent = w · γ/√(running_var + ε), bias = β − γ·running_mean/√(running_var + ε) (+ conv bias folded): ${bnFolded.slice(0, 3).join(', ')}${bnFolded.length > 3 ? ', ...' : ''}`,
    );
  if (floatLayers.length) notes.push(`${pre}${floatLayers.length} weight(s) without a weight quantizer left out: ${floatLayers.slice(0, 5).join(', ')}${floatLayers.length > 5 ? ', ...' : ''}`);
  return { model: { variant, layers, activations }, notes, floatLayers };
}

function variantKey(variant: string, key: string): string {
  return variant === 'state_dict' || variant === 'safetensors' ? key : `${variant}: ${key}`;
}

function opOf(cls: string | undefined, rank: number): string {
  if (cls) {
    const c = cls.slice(cls.lastIndexOf('.') + 1);
    if (/ConvTranspose/i.test(c)) return 'ConvTranspose';
    if (/Conv/i.test(c)) return 'Conv';
    if (/Linear/i.test(c)) return 'Linear';
  }
  return rank === 2 ? 'Linear' : 'Conv';
}

/**
 * torch.ao's fused QAT modules (ConvBn2d, ConvBnReLU2d, ...) keep the conv weight and a child `bn`, and
 * fake-quantize weight · γ/√(running_var + ε) (torch/ao/nn/intrinsic/qat/modules/conv_fused.py). The
 * quantized weight is that product, computed here in float32 as torch does.
 */
function foldedBatchNorm(flat: FlatModel, name: string, outChannels: number) {
  const p = name ? `${name}.bn.` : 'bn.';
  const gammaT = flat.tensors.get(`${p}weight`),
    varT = flat.tensors.get(`${p}running_var`);
  const betaT = flat.tensors.get(`${p}bias`),
    meanT = flat.tensors.get(`${p}running_mean`);
  if (!gammaT || !varT || !betaT || !meanT || gammaT.shape[0] !== outChannels) return undefined;
  const eps = Math.fround(typeof flat.attrs.get(`${p}eps`) === 'number' ? (flat.attrs.get(`${p}eps`) as number) : 1e-5);
  const gamma = gammaT.toFloat(),
    variance = varT.toFloat(),
    beta = betaT.toFloat(),
    mean = meanT.toFloat();
  const factor = new Float32Array(outChannels);
  for (let c = 0; c < outChannels; c++) factor[c] = Math.fround(gamma[c] / Math.fround(Math.sqrt(Math.fround(variance[c] + eps))));
  return {
    foldWeight(w: Float32Array | Float64Array): Float32Array {
      const out = new Float32Array(w.length);
      const per = w.length / outChannels;
      for (let i = 0; i < w.length; i++) out[i] = Math.fround(w[i] * factor[Math.floor(i / per)]);
      return out;
    },
    foldBias(b: Float32Array | undefined): Float32Array {
      // BN(conv(x, w·f) + b·f... ): torch adds the conv bias before BN, so bias' = β + (b − μ)·f.
      const out = new Float32Array(outChannels);
      for (let c = 0; c < outChannels; c++) out[c] = beta[c] + ((b ? b[c] : 0) - mean[c]) * factor[c];
      return out;
    },
  };
}
