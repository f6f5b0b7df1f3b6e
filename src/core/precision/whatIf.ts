// The what-if model: the source ONNX with a set of layers' weights re-quantized at a higher
// bit-width from their latent weights (int8 container + per-channel DequantizeLinear, replacing the
// layer's weight chain), and optionally their input activation quantizers refined to that width.
// Every other node and initializer is the source's own, byte for byte.
import { DataType, makeTensor, onnx } from '../onnx/proto';
import { encodeModel } from '../probe/probeGraph';
import { requantizePerChannel, type Requantized } from './requantize';
import type { ActQuant, PrecisionLayer, PrecisionSource } from './source';

export interface WhatIfOptions {
  bits: number;
  /** Also refine each chosen layer's input activation quantizer to `bits`. */
  activations: boolean;
  /** Keep the layer's weights as they are (only the activation quantizer changes; needs `activations`). */
  keepWeights?: boolean;
}

/** Re-quantized weights per layer key, computed once per source (the scale search is the slow part). */
const cache = new WeakMap<PrecisionSource, Map<string, Requantized>>();

export function requantizedOf(src: PrecisionSource, l: PrecisionLayer, bits: number): Requantized {
  let m = cache.get(src);
  if (!m) cache.set(src, (m = new Map()));
  const k = `${l.key}@${bits}`;
  let r = m.get(k);
  if (!r) m.set(k, (r = requantizePerChannel(l.src.latent, l.shape, bits, l.axis)));
  return r;
}

/**
 * The refined activation quantizer (docs/precision.md): the same clipping range on a grid 2^k times
 * finer, k = bits - b0: s' = s / 2^k, z' = z·2^k, qmin' = qmin·2^k, qmax' = (qmax + 1)·2^k - 1.
 * Every old level is a new level (q' = 2^k·q), so only the rounding of values between levels changes.
 */
export function refineActivation(a: ActQuant, bits: number): { scale: Float32Array; zeroPoint: number[]; qmin: number; qmax: number; dtype: number } | undefined {
  const k = bits - a.bits;
  if (k <= 0) return undefined;
  const f = 2 ** k;
  const qmin = a.qmin * f,
    qmax = (a.qmax + 1) * f - 1;
  const dtype = qmin >= 0 ? DataType.UINT8 : DataType.INT8;
  const [lo, hi] = dtype === DataType.UINT8 ? [0, 255] : [-128, 127];
  if (qmin < lo || qmax > hi) return undefined; // does not fit an 8-bit container
  return { scale: Float32Array.from(a.scale, (s) => s / f), zeroPoint: Array.from(a.zeroPoint, (z) => z * f), qmin, qmax, dtype };
}

export interface WhatIfModel {
  model: onnx.IModelProto;
  bytes: Uint8Array;
  /** Layer keys whose input activation quantizer was refined. */
  activations: string[];
}

export function buildWhatIf(src: PrecisionSource, keys: Iterable<string>, o: WhatIfOptions, note?: string): WhatIfModel {
  const graph = src.probe.model.graph!;
  const chosen = new Set(keys);
  const layers = src.layers.filter((l) => chosen.has(l.key));
  const names = new Set<string>([...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.node ?? []).flatMap((n) => [...(n.output ?? []), n.name ?? ''])]);
  const fresh = (base: string): string => {
    let n = base;
    for (let i = 2; names.has(n); i++) n = `${base}_${i}`;
    names.add(n);
    return n;
  };
  const removed = new Set<onnx.INodeProto>();
  const before = new Map<onnx.INodeProto, onnx.INodeProto[]>(); // new nodes placed before an existing one
  const rewired = new Map<onnx.INodeProto, onnx.INodeProto>(); // consumer node -> its copy with a new data input
  const added: onnx.ITensorProto[] = [];
  const place = (at: onnx.INodeProto, n: onnx.INodeProto) => before.set(at, [...(before.get(at) ?? []), n]);
  const activations: string[] = [];
  for (const l of layers) {
    const base = l.node || l.key;
    if (!o.keepWeights) {
      const r = requantizedOf(src, l, o.bits);
      const qName = fresh(`${base}.weight_int${o.bits}`),
        sName = fresh(`${base}.weight_scale${o.bits}`),
        zName = fresh(`${base}.weight_zero_point${o.bits}`);
      added.push(
        makeTensor(qName, l.shape, r.integers, DataType.INT8),
        makeTensor(sName, [r.scale.length], r.scale, DataType.FLOAT),
        makeTensor(zName, [r.scale.length], new Int8Array(r.scale.length), DataType.INT8),
      );
      const dq = onnx.NodeProto.create({
        opType: 'DequantizeLinear',
        name: fresh(`${base}.weight_dequantize${o.bits}`),
        input: [qName, sName, zName],
        output: [l.src.chain.dqOutput],
        attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: r.axis })],
      });
      for (const n of l.src.chain.chainNodes) removed.add(n);
      place(l.src.chain.chainNodes[0], dq); // the old DequantizeLinear's place
    }
    if (o.activations && l.act) {
      const ref = refineActivation(l.act, o.bits);
      if (!ref) continue;
      const consumer = (graph.node ?? []).find((n) => n.input?.[1] === l.src.chain.dqOutput && n.opType === l.op)!;
      const a = `${base}.input_quantizer${o.bits}`;
      const as = fresh(`${a}.s`),
        az = fresh(`${a}.zero_point`),
        alo = fresh(`${a}.qmin`),
        ahi = fresh(`${a}.qmax`);
      const shape = ref.scale.length > 1 ? [ref.scale.length] : [];
      added.push(
        makeTensor(as, shape, ref.scale, DataType.FLOAT),
        makeTensor(az, shape, ref.zeroPoint, ref.dtype),
        makeTensor(alo, [], [ref.qmin], ref.dtype),
        makeTensor(ahi, [], [ref.qmax], ref.dtype),
      );
      const axis = l.act.axis !== undefined ? [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: l.act.axis })] : [];
      const qo = fresh(`${a}.quantize:out`),
        co = fresh(`${a}.clip:out`),
        dqo = fresh(`${a}.dequantize:out`);
      const x = l.act.q.input![0];
      place(l.act.q, onnx.NodeProto.create({ opType: 'QuantizeLinear', name: fresh(`${a}.quantize`), input: [x, as, az], output: [qo], attribute: axis }));
      place(l.act.q, onnx.NodeProto.create({ opType: 'Clip', name: fresh(`${a}.clip`), input: [qo, alo, ahi], output: [co] }));
      place(l.act.q, onnx.NodeProto.create({ opType: 'DequantizeLinear', name: fresh(`${a}.dequantize`), input: [co, as, az], output: [dqo], attribute: axis }));
      rewired.set(consumer, { ...consumer, input: [dqo, ...consumer.input!.slice(1)] });
      activations.push(l.key);
    }
  }
  let nodes: onnx.INodeProto[] = [];
  for (const n of graph.node ?? []) {
    nodes.push(...(before.get(n) ?? []));
    if (!removed.has(n)) nodes.push(rewired.get(n) ?? n);
  }
  // An old activation chain goes where nothing reads it any more (it may feed other layers too).
  const stale = new Set(layers.filter((l) => activations.includes(l.key)).flatMap((l) => [l.act!.q, ...(l.act!.clip ? [l.act!.clip] : []), l.act!.dq]));
  for (let changed = true; changed;) {
    const read = new Set([...nodes.flatMap((n) => n.input ?? []), ...(graph.output ?? []).map((g) => g.name ?? '')]);
    const keep = nodes.filter((n) => !stale.has(n) || (n.output ?? []).some((x) => read.has(x)));
    changed = keep.length !== nodes.length;
    nodes = keep;
  }
  const used = new Set<string>([...nodes.flatMap((n) => n.input ?? []), ...(graph.output ?? []).map((g) => g.name ?? '')]);
  const initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name ?? '')), ...added];
  const metadataProps = [...(src.probe.model.metadataProps ?? [])];
  if (note) metadataProps.push({ key: 'qat_lens.precision', value: note });
  const model: onnx.IModelProto = { ...src.probe.model, graph: { ...graph, node: nodes, initializer }, metadataProps };
  return { model, bytes: encodeModel(model), activations };
}
