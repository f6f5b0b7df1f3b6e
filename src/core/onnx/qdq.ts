// Quantize/Dequantize semantics and the Q/DQ patterns of a graph, in one place for every reader,
// rewrite, probe and trainer:
//   - intRange: the integer range of each ONNX integer type (int4/uint4 included);
//   - roundHalfEven / quantizeLinear: QuantizeLinear's rounding, exact in float64;
//   - the patterns, read backwards from a DequantizeLinear:
//       integer weight:  int initializer -> DequantizeLinear -> Conv/Gemm/MatMul
//       latent weight:   float initializer -> QuantizeLinear -> [Clip] -> DequantizeLinear -> ...
//       activation:      computed tensor -> QuantizeLinear -> [Clip] -> DequantizeLinear
import { type GraphIndex, type Node, attrFloat, attrInt } from './graph';
import { DataType, INT_RANGES, onnx, tensorToFloat64 } from './proto';

/** Integer range [min, max] of an ONNX integer data type, or undefined for a non-integer type. */
export function intRange(dataType: number): readonly [number, number] | undefined {
  return INT_RANGES[dataType];
}

/**
 * ONNX QuantizeLinear rounding: to nearest, ties to even (numpy's rint). u - floor(u) is exact for
 * every float64 (|u| >= 2^52 is already an integer), so the tie test is exact. Never returns -0.
 */
export function roundHalfEven(u: number): number {
  const fl = Math.floor(u);
  const f = u - fl;
  if (f > 0.5) return fl + 1;
  if (f < 0.5) return fl + 0;
  return fl % 2 === 0 ? fl + 0 : fl + 1;
}

/**
 * The integer QuantizeLinear computes: clamp(roundHalfEven(x / s) + z, qmin, qmax). onnxruntime
 * divides in the input's precision: with float32 inputs x / s is rounded to float32 first, which
 * near a tie can differ by one step from the float64 quotient (the u of docs/definitions.md).
 */
export function quantizeLinear(x: number, s: number, z: number, qmin: number, qmax: number, float32: boolean): number {
  const u = float32 ? Math.fround(x / s) : x / s;
  const q = roundHalfEven(u) + z;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** Channel index of each flat element of a row-major `shape` for a parameter of `n` values along `axis` (n = 1: per tensor). */
export function channelIndexer(shape: number[], axis: number | null, n: number): (i: number) => number {
  if (n === 1 || axis === null) return () => 0;
  const ax = axis < 0 ? axis + shape.length : axis;
  const dim = shape[ax];
  if (dim !== n) throw new Error(`per-axis parameter has ${n} values but axis ${axis} of [${shape.join(', ')}] has ${dim}`);
  const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  return (i) => Math.floor(i / inner) % n;
}

/** The integer type a QuantizeLinear produces: its zero point's type, else output_dtype, else uint8. */
export function quantizeOutputType(g: GraphIndex, q: Node): number {
  const z = g.constant(q.input?.[2]);
  if (z?.dataType) return z.dataType;
  return attrInt(q, 'output_dtype', 0) || DataType.UINT8;
}

/** A Clip bound (or scale, zero point) that is computed in the graph, where a constant is needed. */
export class NotConstantError extends Error {
  /** `where`: the node as a message names it, e.g. "Clip 'Clip#12'". */
  constructor(
    where: string,
    what: string,
    readonly tensor: string,
  ) {
    super(`${where}: ${what} '${tensor}' is computed in the graph, not stored`);
  }
}

/** Constant bounds of a Clip (opset 11+ inputs, or opset 6 attributes); absent bounds are ±Infinity. */
export function clipBounds(g: GraphIndex, clip: Node, file?: string): [number, number] {
  let lo = attrFloat(clip, 'min', -Infinity),
    hi = attrFloat(clip, 'max', Infinity);
  const [, loName, hiName] = clip.input ?? [];
  if (loName) {
    const t = g.constant(loName);
    if (!t) throw new NotConstantError(`Clip '${g.name(clip)}'`, 'min', loName);
    lo = tensorToFloat64(t, file)[0];
  }
  if (hiName) {
    const t = g.constant(hiName);
    if (!t) throw new NotConstantError(`Clip '${g.name(clip)}'`, 'max', hiName);
    hi = tensorToFloat64(t, file)[0];
  }
  return [lo, hi];
}

/** An integer range narrowed by Clip bounds [lo, hi] (to the integers inside them); the range as is without a clip. */
export function clampRange(range: readonly [number, number], clip?: readonly [number, number] | null): [number, number] {
  if (!clip) return [range[0], range[1]];
  return [Math.max(range[0], Math.ceil(clip[0])), Math.min(range[1], Math.floor(clip[1]))];
}

/** What a DequantizeLinear dequantizes. */
export type DqSource =
  /** Integers stored in a constant (the weight or bias pattern of exported QDQ models). */
  | { kind: 'integer'; dq: Node; weight: string; tensor: onnx.ITensorProto }
  /** A float constant fake-quantized in the graph (latent weights). */
  | { kind: 'latent'; dq: Node; q: Node; clip?: Node; weight: string; tensor: onnx.ITensorProto }
  /** A computed tensor fake-quantized in the graph (an activation quantizer). */
  | { kind: 'activation'; dq: Node; q: Node; clip?: Node; input: string };

/** Classify a DequantizeLinear by what it reads; undefined for any other pattern. */
export function traceDq(g: GraphIndex, dq: Node): DqSource | undefined {
  const x = dq.input?.[0] ?? '';
  const c = g.constant(x);
  if (c) return { kind: 'integer', dq, weight: x, tensor: c };
  let src = g.producer.get(x);
  let clip: Node | undefined;
  if (src?.opType === 'Clip') {
    clip = src;
    src = g.producer.get(src.input?.[0] ?? '');
  }
  if (src?.opType !== 'QuantizeLinear') return undefined;
  const qIn = src.input?.[0] ?? '';
  const w = g.constant(qIn);
  if (w) return { kind: 'latent', dq, q: src, clip, weight: qIn, tensor: w };
  return { kind: 'activation', dq, q: src, clip, input: qIn };
}

/** Ops whose input 1 is a weight (and input 2 a bias, where present). */
export const WEIGHT_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** A quantized weight feeding a layer directly: consumer.input[1] <- DequantizeLinear <- (integer | latent) constant. */
export type WeightChainMatch = Extract<DqSource, { kind: 'integer' | 'latent' }> & { consumer: Node };

/** The weight chain of a Conv/ConvTranspose/Gemm/MatMul node, or undefined if its weight is not quantized so. */
export function weightChainOf(g: GraphIndex, consumer: Node): WeightChainMatch | undefined {
  if (!WEIGHT_OPS.has(consumer.opType ?? '')) return undefined;
  const dq = g.producer.get(consumer.input?.[1] ?? '');
  if (dq?.opType !== 'DequantizeLinear') return undefined;
  const src = traceDq(g, dq);
  if (!src || src.kind === 'activation') return undefined;
  return { ...src, consumer };
}
