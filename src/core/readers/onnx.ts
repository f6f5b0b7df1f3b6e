// ONNX QDQ reader. Weight patterns:
//   float initializer -> QuantizeLinear -> (Clip) -> DequantizeLinear -> Conv/Gemm/MatMul  (latent weights)
//   int initializer -> DequantizeLinear -> Conv/Gemm/MatMul                               (integer weights)
// Activation patterns: QuantizeLinear -> (Clip) -> DequantizeLinear on a computed tensor.
import type { ActivationQuantizer, Checkpoint, QuantizedLayer, Quantizer, ReadOptions } from '../model';
import { FormatError } from '../errors';
import { GraphIndex, type Node, attrInt } from '../onnx/graph';
import { decodeModel, dtypeName, onnx, tensorShape, tensorToArray, tensorToFloat64 } from '../onnx/proto';
import { NotConstantError, WEIGHT_OPS, clampRange, clipBounds, intRange, quantizeOutputType, traceDq } from '../onnx/qdq';
import { bitsOfQuantRange } from './quantRange';
/** Shape-only ops between a weight's DequantizeLinear and its consumer (followed through). */
const PASS_OPS = new Set(['Identity', 'Transpose', 'Reshape', 'Unsqueeze', 'Squeeze', 'Cast', 'Flatten']);
/** Elementwise activations between a layer's output and the activation quantizer that follows it. */
const ACT_OPS = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Mul', 'HardSwish', 'HardSigmoid', 'Clip', 'Tanh', 'Elu', 'Silu', 'Swish']);

export async function readOnnx(file: string, bytes: Uint8Array, opts: ReadOptions = {}): Promise<Checkpoint> {
  const model = decodeModel(bytes, file);
  return readOnnxModel(file, model, opts);
}

export function readOnnxModel(file: string, model: onnx.IModelProto, opts: ReadOptions = {}): Checkpoint {
  // --bits applies to integer weights whose file records no range but the container (int8 holding
  // 4-bit values, DequantizeLinear only); without it, such layers are reported, never guessed.
  const narrower = new Map<number, string[]>(); // bits that fit -> layers (no --bits given)
  const userBits: string[] = [];
  const userBitsRefused: string[] = [];
  const g = new GraphIndex(model.graph!);
  const nodeName = (n: Node) => g.name(n);

  /** Scale/zero-point of a Q or DQ node, validated. */
  const quantParams = (n: Node, what: string) => {
    const sName = n.input?.[1] ?? '';
    const st = g.constant(sName);
    if (!st) throw new NotConstantError(`${n.opType} '${nodeName(n)}' (${what})`, 'scale', sName);
    const scale = tensorToFloat64(st, file);
    for (let i = 0; i < scale.length; i++) {
      const s = scale[i];
      if (!(s > 0) || !Number.isFinite(s)) {
        const kind = Number.isNaN(s) ? 'NaN' : s === 0 ? 'zero' : s < 0 ? 'negative' : 'infinite';
        throw new FormatError(`${kind} scale ${s} in tensor '${sName}'${scale.length > 1 ? ` at index ${i}` : ''} (${n.opType} '${nodeName(n)}', ${what})`, file);
      }
    }
    const zName = n.input?.[2];
    const zt = g.constant(zName);
    if (zName && !zt) throw new NotConstantError(`${n.opType} '${nodeName(n)}' (${what})`, 'zero point', zName);
    let zeroPoint = zt ? tensorToFloat64(zt, file) : new Float64Array(scale.length);
    if (zeroPoint.length === 1 && scale.length > 1) zeroPoint = new Float64Array(scale.length).fill(zeroPoint[0]);
    if (zeroPoint.length !== scale.length) throw new FormatError(`zero point '${zName}' has ${zeroPoint.length} values, scale '${sName}' has ${scale.length}`, file);
    const perAxis = st.dims && st.dims.length > 0 && scale.length > 1;
    return { scale, zeroPoint, perAxis, axisAttr: attrInt(n, 'axis', 1), scaleName: sName };
  };
  const clipOf = (c: Node | undefined) => (c ? clipBounds(g, c, file) : null);

  const makeQuantizer = (p: ReturnType<typeof quantParams>, container: number, clip: [number, number] | null, rank: number, source: string): Quantizer => {
    const range = intRange(container);
    if (!range) throw new FormatError(`quantizer '${source}' uses unsupported integer type ${dtypeName(container)}`, file);
    const [qmin, qmax] = clampRange(range, clip);
    if (qmin >= qmax) throw new FormatError(`Clip range [${clip?.[0]}, ${clip?.[1]}] leaves no integer levels for '${source}'`, file);
    let axis: number | null = null;
    if (p.perAxis) axis = p.axisAttr < 0 ? p.axisAttr + rank : p.axisAttr;
    return {
      scale: p.scale,
      zeroPoint: p.zeroPoint,
      axis,
      qmin,
      qmax,
      bits: bitsOfQuantRange(qmin, qmax),
      bitsSource: clip ? 'clip' : 'container',
      kind: 'onnx QDQ',
      source: p.scaleName,
    };
  };

  /** Follow a tensor through shape-only ops to the nodes that use it, with the input slot. */
  const usesOf = (tensor: string, depth = 0): { node: Node; slot: number }[] => {
    const out: { node: Node; slot: number }[] = [];
    for (const u of g.uses(tensor)) {
      if (PASS_OPS.has(u.node.opType ?? '') && depth < 4 && u.slot === 0) out.push(...usesOf(u.node.output![0], depth + 1));
      else out.push(u);
    }
    return out;
  };

  // Activation Q/DQ pairs: keyed by the DQ output (what a layer reads) and the Q input (what a layer writes).
  const actByDqOut = new Map<string, Quantizer>();
  const actByQIn = new Map<string, Quantizer>();
  const activations: ActivationQuantizer[] = [];
  const layers: QuantizedLayer[] = [];
  const notes: string[] = [];
  const biasDq = new Set<Node>();
  const weightDqs: { dq: Node; weightName: string; latent: boolean; q?: Node; clip?: Node }[] = [];

  for (const dq of g.nodes) {
    if (dq.opType !== 'DequantizeLinear') continue;
    const src = traceDq(g, dq);
    if (!src) continue; // a DQ of something else: not a pattern we read
    if (src.kind !== 'activation') {
      weightDqs.push({ dq, weightName: src.weight, latent: src.kind === 'latent', q: src.kind === 'latent' ? src.q : undefined, clip: src.kind === 'latent' ? src.clip : undefined });
      continue;
    }
    const qIn = src.input;
    let qz: Quantizer;
    try {
      const p = quantParams(src.q, `activation '${qIn}'`);
      qz = makeQuantizer(p, quantizeOutputType(g, src.q), clipOf(src.clip), 4, qIn);
    } catch (err) {
      if (err instanceof NotConstantError) {
        notes.push(`skipped activation quantizer on '${qIn}': ${err.message}`);
        continue;
      }
      throw err;
    }
    qz.source = qIn;
    activations.push({ name: qIn, quantizer: qz });
    actByDqOut.set(dq.output![0], qz);
    actByQIn.set(qIn, qz);
  }

  for (const w of weightDqs) {
    try {
      const layer = readWeightLayer(w);
      if (layer) layers.push(layer);
    } catch (err) {
      if (err instanceof NotConstantError) {
        notes.push(`skipped weight '${w.weightName}': ${err.message}`);
        continue;
      }
      throw err;
    }
  }

  /** Integer weights in a bare container: --bits narrows the range when every integer fits it;
   *  without --bits, the narrowest signed width that holds them is recorded for a note. */
  function applyUserBits(q: Quantizer, ints: Int32Array, name: string): void {
    let lo = Infinity,
      hi = -Infinity;
    for (let i = 0; i < ints.length; i++) {
      const v = ints[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi >= lo)) return;
    const zp = q.zeroPoint.length ? q.zeroPoint[0] : 0;
    const signed = q.qmin < 0;
    const rangeOf = (b: number): [number, number] => (signed ? [-(2 ** (b - 1)), 2 ** (b - 1) - 1] : [0, 2 ** b - 1]);
    if (opts.bits !== undefined) {
      if (opts.bits >= q.bits) return; // the container is already that narrow
      const [qmin, qmax] = rangeOf(opts.bits);
      if (lo < qmin || hi > qmax) {
        userBitsRefused.push(`${name} (${lo}..${hi})`);
        return;
      }
      Object.assign(q, { qmin, qmax, bits: opts.bits, bitsSource: 'user' as const });
      userBits.push(name);
      return;
    }
    if (zp !== 0 && signed) return; // an offset range: no narrower signed width to suggest
    for (let b = 2; b < q.bits; b++) {
      const [qmin, qmax] = rangeOf(b);
      if (lo >= qmin && hi <= qmax) {
        narrower.set(b, [...(narrower.get(b) ?? []), name]);
        return;
      }
    }
  }

  function readWeightLayer(w: (typeof weightDqs)[number]): QuantizedLayer | undefined {
    const wt = g.constant(w.weightName)!;
    const uses = usesOf(w.dq.output![0]);
    const asWeight = uses.find((u) => WEIGHT_OPS.has(u.node.opType ?? '') && (u.slot === 1 || (u.node.opType === 'MatMul' && u.slot === 0)));
    const asBias = uses.find((u) => (u.node.opType === 'Conv' || u.node.opType === 'ConvTranspose' || u.node.opType === 'Gemm') && u.slot === 2);
    if (!asWeight && asBias) {
      biasDq.add(w.dq);
      return undefined;
    }
    const shape = tensorShape(wt);
    if (!asWeight && shape.length < 2) {
      notes.push(`skipped DequantizeLinear of '${w.weightName}' (not a layer weight)`);
      return undefined;
    }
    const op = asWeight?.node.opType ?? uses[0]?.node.opType ?? 'DequantizeLinear';
    const p = quantParams(w.dq, `weight '${w.weightName}'`);
    let container: number;
    if (w.latent) {
      quantParams(w.q!, `weight '${w.weightName}'`); // validates the QuantizeLinear's scale and zero point
      container = quantizeOutputType(g, w.q!);
    } else {
      container = wt.dataType ?? 0;
    }
    const quantizer = makeQuantizer(p, container, clipOf(w.clip), shape.length, w.weightName);
    if (quantizer.axis !== null && (quantizer.axis >= shape.length || shape[quantizer.axis] !== quantizer.scale.length)) {
      throw new FormatError(`scale '${p.scaleName}' has ${quantizer.scale.length} values but weight '${w.weightName}' has ${shape[quantizer.axis!] ?? 'no'} slices on axis ${quantizer.axis}`, file);
    }
    const values = tensorToArray(wt, file);
    const weight: QuantizedLayer['weight'] = { shape, storedDtype: dtypeName(wt.dataType ?? 0) };
    if (w.latent) {
      if (values instanceof Float32Array)
        weight.latent = values; // a view into the file buffer where aligned
      else if (values instanceof Float64Array) weight.latent = values;
      else throw new FormatError(`weight '${w.weightName}' feeds QuantizeLinear but is ${dtypeName(wt.dataType ?? 0)}, not float`, file);
    } else {
      if (values instanceof Float32Array || values instanceof Float64Array || values instanceof BigInt64Array) {
        throw new FormatError(`weight '${w.weightName}' feeds DequantizeLinear but is ${dtypeName(wt.dataType ?? 0)}, not an 8-bit or smaller integer type`, file);
      }
      weight.integer = Int32Array.from(values as ArrayLike<number>);
      if (quantizer.bitsSource === 'container') applyUserBits(quantizer, weight.integer, wt.name || w.weightName);
    }
    const layer: QuantizedLayer = { name: wt.name || w.weightName, op, weight, weightQuantizer: quantizer };
    const consumer = asWeight?.node;
    if (consumer) {
      layer.graph = { node: nodeName(consumer), inputs: [...(consumer.input ?? [])], outputs: [...(consumer.output ?? [])] };
      const dataIn = consumer.input?.[consumer.opType === 'MatMul' && asWeight!.slot === 0 ? 1 : 0];
      if (dataIn && actByDqOut.has(dataIn)) layer.inputQuantizer = actByDqOut.get(dataIn);
      const outQ = findFollowingQuantizer(consumer.output?.[0] ?? '', g, actByQIn);
      if (outQ) layer.outputQuantizer = outQ;
      const b = consumer.opType !== 'MatMul' ? consumer.input?.[2] : undefined;
      if (b) layer.bias = readBias(file, b, g, quantParams);
    }
    return layer;
  }
  if (layers.length === 0) {
    throw new FormatError('no quantized layer found: no weight reaches a Conv/Gemm/MatMul through DequantizeLinear (is this a QDQ model?)', file);
  }
  const clipped = layers.filter((l) => l.weightQuantizer.bitsSource === 'clip').length;
  if (clipped) notes.push(`${clipped} of ${layers.length} weight quantizers take their integer range from a Clip between QuantizeLinear and DequantizeLinear`);
  const list = (names: string[]) => `${names.slice(0, 4).join(', ')}${names.length > 4 ? `, … (${names.length} layers)` : ''}`;
  if (userBits.length)
    notes.push(
      `--bits ${opts.bits} given: ${userBits.length} integer weight layer(s) whose file records only the ${layers.find((l) => userBits.includes(l.name))?.weight.storedDtype ?? 'integer'} container read as ${opts.bits}-bit (${list(userBits)})`,
    );
  if (userBitsRefused.length) notes.push(`--bits ${opts.bits} not applied to ${list(userBitsRefused)}: their stored integers do not fit ${opts.bits} bits`);
  for (const [b, names] of [...narrower].sort((x, y) => x[0] - y[0])) {
    notes.push(
      `every integer of ${list(names)} fits ${b} bits (${-(2 ** (b - 1))}..${2 ** (b - 1) - 1}) but the file records only the container's range; if these are ${b}-bit weights, pass --bits ${b}`,
    );
  }
  const latent = layers.filter((l) => l.weight.latent).length;
  notes.push(`${latent} of ${layers.length} layers store latent (float) weights; ${layers.length - latent} store integer weights`);
  return { file, format: 'onnx', variants: [{ variant: 'graph', layers, activations }], notes };
}

/** The activation quantizer on a layer's output, directly or after an elementwise activation (SiLU = x * sigmoid(x)). */
function findFollowingQuantizer(out: string, g: GraphIndex, actByQIn: Map<string, Quantizer>): Quantizer | undefined {
  let frontier = [out];
  for (let depth = 0; depth < 3 && frontier.length; depth++) {
    for (const t of frontier) if (actByQIn.has(t)) return actByQIn.get(t);
    const next: string[] = [];
    for (const t of frontier) for (const n of g.consumers.get(t) ?? []) if (ACT_OPS.has(n.opType ?? '')) next.push(...(n.output ?? []));
    frontier = next;
  }
  return undefined;
}

function readBias(file: string, name: string, g: GraphIndex, quantParams: (n: Node, what: string) => { scale: Float64Array; zeroPoint: Float64Array }): Float32Array | undefined {
  const t = g.constant(name);
  if (t) return Float32Array.from(tensorToFloat64(t, file));
  const dq = g.producer.get(name);
  const qt = dq?.opType === 'DequantizeLinear' ? g.constant(dq.input?.[0]) : undefined;
  if (dq && qt) {
    const q = tensorToFloat64(qt, file);
    const p = quantParams(dq, `bias '${dq.input![0]}'`);
    return Float32Array.from(q, (v, i) => (v - p.zeroPoint[p.scale.length > 1 ? i : 0]) * p.scale[p.scale.length > 1 ? i : 0]);
  }
  return undefined;
}
