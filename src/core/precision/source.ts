// What the precision plan works on: the QDQ ONNX, its quantized layers with their latent weights
// (the probe's source: the ONNX's own float weights, or a paired checkpoint), each layer's current
// bit-widths, its output-channel axis, and its input activation quantizer where it has one.
import { QatLensError } from '../errors';
import { type GraphIndex, indexGraph } from '../onnx/graph';
import { DataType, onnx, tensorToFloat64, toNumber } from '../onnx/proto';
import { clipBounds, intRange } from '../onnx/qdq';
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
  const g = indexGraph(graph);
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
      act: actQuantOf(node, g, file),
      src: l,
    };
  });
  const naming = probe.layers.some((l) => l.latentName) ? `module names of ${latent}` : 'ONNX node names';
  return { probe, layers, naming };
}

/** The Q -> [Clip] -> DQ chain on a node's data input (input 0), where it is one. */
function actQuantOf(node: onnx.INodeProto, g: GraphIndex, file: string): ActQuant | undefined {
  const dq = g.producer.get(node.input?.[0] ?? '');
  if (!dq || dq.opType !== 'DequantizeLinear' || g.constant(dq.input?.[0])) return undefined;
  let p = g.producer.get(dq.input![0]);
  let clip: onnx.INodeProto | undefined;
  let bounds: [number, number] | undefined;
  if (p?.opType === 'Clip') {
    clip = p;
    if (!g.constant(p.input?.[1]) || !g.constant(p.input?.[2])) return undefined;
    bounds = clipBounds(g, p, file);
    p = g.producer.get(p.input?.[0] ?? '');
  }
  if (!p || p.opType !== 'QuantizeLinear') return undefined;
  const sT = g.constant(p.input?.[1]);
  if (!sT) return undefined;
  const scale = tensorToFloat64(sT, file);
  const zT = g.constant(p.input?.[2]);
  const zeroPoint = zT ? tensorToFloat64(zT, file) : new Float64Array(scale.length);
  const [qmin, qmax] = bounds ?? intRange(zT?.dataType ?? DataType.UINT8) ?? [0, 255];
  const bits = bitsOf(qmin, qmax);
  if (!Number.isInteger(bits)) return undefined;
  const axisAttr = (p.attribute ?? []).find((a) => a.name === 'axis');
  return { q: p, clip, dq, scale, zeroPoint, axis: axisAttr ? toNumber(axisAttr.i) : undefined, qmin, qmax, bits };
}
