// What the precision plan works on: the QDQ ONNX, its quantized layers with their latent weights
// (the probe's source: the ONNX's own float weights, or a paired checkpoint), each layer's current
// bit-widths, its output-channel axis, and its input activation quantizer where it has one.
import { QatLensError } from '../errors';
import { DataType, onnx, tensorToFloat64, toNumber } from '../onnx/proto';
import { loadProbeSource, type ProbeLayerSource, type ProbeSource } from '../probe/probeSource';
import { outputAxis } from './requantize';

/** An activation Q -> [Clip] -> DQ chain feeding a layer's data input. */
export interface ActQuant {
  q: onnx.INodeProto;
  clip?: onnx.INodeProto;
  dq: onnx.INodeProto;
  scale: Float64Array;
  zeroPoint: Float64Array;
  /** Axis attribute of a per-channel activation scale (rare). */
  axis?: number;
  qmin: number;
  qmax: number;
  bits: number;
}

export interface PrecisionLayer {
  /** The ONNX weight initializer's name (unique key). */
  key: string;
  /** The layer's name in the checkpoint's own naming: the .pt module name where a .pt lent the weights, else the ONNX node name. */
  name: string;
  /** The consuming ONNX node's name. */
  node: string;
  op: string;
  shape: number[];
  weights: number;
  /** Current weight bit-width, log2(qmax - qmin + 1). */
  bits: number;
  /** Output-channel axis (per-channel scales of the re-quantized weights lie along it). */
  axis: number;
  act?: ActQuant;
  src: ProbeLayerSource;
}

export interface PrecisionSource {
  probe: ProbeSource;
  layers: PrecisionLayer[];
  /** "the .pt's module names" or "ONNX node names". */
  naming: string;
}

const bitsOf = (qmin: number, qmax: number): number => Math.log2(qmax - qmin + 1);

const RANGE: Record<number, [number, number]> = { [DataType.UINT8]: [0, 255], [DataType.INT8]: [-128, 127], [DataType.UINT16]: [0, 65535], [DataType.INT16]: [-32768, 32767] };

/** Load the model and its latent weights; an ONNX without latent weights and no checkpoint is a clear error. */
export async function loadPrecisionSource(file: string, latent?: string, variant?: string): Promise<PrecisionSource> {
  let probe: ProbeSource;
  try {
    probe = await loadProbeSource(file, { pt: latent, variant });
  } catch (err) {
    if (err instanceof QatLensError && err.code === 'ENOLATENT' && !latent) {
      throw new QatLensError(
        'stores its quantized weights as integers only, so there are no latent weights to re-quantize at a higher bit-width: pass --latent CHECKPOINT.pt (the PyTorch checkpoint this ONNX was exported from), or use an ONNX export whose weights are float -> QuantizeLinear -> Clip -> DequantizeLinear',
        file,
        'ENOLATENT',
      );
    }
    throw err;
  }
  const graph = probe.model.graph!;
  const consts = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) consts.set(t.name, t);
  for (const n of graph.node ?? []) {
    const a = n.opType === 'Constant' ? (n.attribute ?? []).find((x) => x.name === 'value' && x.t) : undefined;
    if (a?.t && n.output?.[0]) consts.set(n.output[0], a.t);
  }
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const layers = probe.layers.map((l): PrecisionLayer => {
    const node = (graph.node ?? []).find((n) => n.input?.[1] === l.chain.dqOutput && n.opType === l.chain.op)!;
    const transB = toNumber((node.attribute ?? []).find((a) => a.name === 'transB')?.i ?? 0);
    return {
      key: l.chain.name,
      name: l.latentName ?? (l.chain.node || l.chain.name),
      node: l.chain.node,
      op: l.chain.op,
      shape: l.chain.shape,
      weights: l.latent.length,
      bits: bitsOf(l.quant.qmin, l.quant.qmax),
      axis: outputAxis(l.chain.op, l.chain.shape.length, transB),
      act: actQuantOf(node, producer, consts, file),
      src: l,
    };
  });
  const naming = probe.layers.some((l) => l.latentName) ? `module names of ${latent}` : 'ONNX node names';
  return { probe, layers, naming };
}

/** The Q -> [Clip] -> DQ chain on a node's data input (input 0), where it is one. */
function actQuantOf(node: onnx.INodeProto, producer: Map<string, onnx.INodeProto>, consts: Map<string, onnx.ITensorProto>, file: string): ActQuant | undefined {
  const dq = producer.get(node.input?.[0] ?? '');
  if (!dq || dq.opType !== 'DequantizeLinear' || consts.has(dq.input?.[0] ?? '')) return undefined;
  let p = producer.get(dq.input![0]);
  let clip: onnx.INodeProto | undefined;
  let bounds: [number, number] | undefined;
  if (p?.opType === 'Clip') {
    clip = p;
    const lo = consts.get(p.input?.[1] ?? ''),
      hi = consts.get(p.input?.[2] ?? '');
    if (!lo || !hi) return undefined;
    bounds = [tensorToFloat64(lo, file)[0], tensorToFloat64(hi, file)[0]];
    p = producer.get(p.input?.[0] ?? '');
  }
  if (!p || p.opType !== 'QuantizeLinear') return undefined;
  const sT = consts.get(p.input?.[1] ?? '');
  if (!sT) return undefined;
  const scale = tensorToFloat64(sT, file);
  const zT = p.input?.[2] ? consts.get(p.input[2]) : undefined;
  const zeroPoint = zT ? tensorToFloat64(zT, file) : new Float64Array(scale.length);
  const [qmin, qmax] = bounds ?? RANGE[zT?.dataType ?? DataType.UINT8] ?? [0, 255];
  const bits = bitsOf(qmin, qmax);
  if (!Number.isInteger(bits)) return undefined;
  const axisAttr = (p.attribute ?? []).find((a) => a.name === 'axis');
  return { q: p, clip, dq, scale, zeroPoint, axis: axisAttr ? toNumber(axisAttr.i) : undefined, qmin, qmax, bits };
}
