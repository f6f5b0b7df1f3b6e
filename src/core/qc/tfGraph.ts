// Executes an ONNX graph with TensorFlow.js, differentiably: the engine QC trains through.
//
// Layout: ONNX is NCHW, tfjs convolutions are NHWC. Every rank-4 activation that a spatial op
// (Conv, MaxPool, Resize...) produces is kept NHWC and flagged; the graph input is transposed once.
// Elementwise ops keep the flag (constants are moved to NHWC to broadcast right), axis ops
// (Concat, Split, Slice, Softmax, per-axis Q/DQ) remap the axis, and the few ops whose meaning is
// tied to the memory order (Reshape, Transpose, Flatten, MatMul/Gemm, graph outputs) first go back
// to NCHW. Shape reports the NCHW shape without moving data.
//
// Initializers, Constant nodes and everything computed only from them (dequantized weights, the
// shape arithmetic of exports) live on the host (hostOps.ts); static ones are folded once at load.
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, onnx, tensorShape, tensorToArray, toNumber } from '../onnx/proto';
import { FormatError, QatLensError } from '../errors';
import * as H from './hostOps';
import { runTfOp } from './tfOps';

export type Host = H.Host;
export interface TfVal { t: tf.Tensor; nhwc: boolean }
export type Val = { h: Host } | TfVal;
export const isHost = (v: Val): v is { h: Host } => 'h' in v;

export interface RunOptions {
  /** Values to return (default: the graph outputs). */
  outputs?: string[];
  /** Layout of the fed rank-4 inputs (default 'nchw', as ONNX). */
  inputLayout?: 'nchw' | 'nhwc';
  /** Return rank-4 NHWC values as NHWC instead of moving them back to NCHW. */
  keepNhwc?: boolean;
  /** Called with a value right after its node computed it; its result replaces the value. */
  hooks?: Map<string, (t: tf.Tensor) => tf.Tensor>;
}

export interface NodeInfo { node: onnx.INodeProto; index: number; name: string }

export class TfGraph {
  readonly model: onnx.ModelProto;
  readonly nodes: onnx.INodeProto[];
  readonly inputs: { name: string; shape: (number | string)[] }[];
  readonly outputs: string[];
  /** value name -> producing node */
  readonly producer = new Map<string, NodeInfo>();
  /** value name -> consuming nodes */
  readonly consumers = new Map<string, NodeInfo[]>();
  /** Host values known before any input: initializers, constants and what folds from them. */
  readonly statics = new Map<string, Host>();
  private readonly tfCache = new Map<string, tf.Tensor>();
  private readonly staticKey = new Map<Host, string>();

  constructor(model: onnx.ModelProto, readonly file: string) {
    this.model = model;
    const g = model.graph!;
    this.nodes = g.node ?? [];
    for (const t of g.initializer ?? []) this.statics.set(t.name!, fromProto(t, file));
    const inits = new Set((g.initializer ?? []).map((t) => t.name!));
    this.inputs = (g.input ?? []).filter((i) => !inits.has(i.name!)).map((i) => ({
      name: i.name!,
      shape: (i.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : d.dimParam || '?')),
    }));
    this.outputs = (g.output ?? []).map((o) => o.name!);
    this.nodes.forEach((node, index) => {
      const info = { node, index, name: nodeName(node, index) };
      for (const o of node.output ?? []) if (o) this.producer.set(o, info);
      for (const i of node.input ?? []) if (i) {
        const list = this.consumers.get(i) ?? [];
        list.push(info);
        this.consumers.set(i, list);
      }
    });
    this.foldStatics();
    for (const [name, h] of this.statics) this.staticKey.set(h, name);
  }

  static load(path: string): TfGraph {
    return new TfGraph(loadModel(path), path);
  }

  /** Evaluate, once, every node whose inputs are all static (on the host). */
  private foldStatics(): void {
    this.nodes.forEach((node, index) => {
      const ins = node.input ?? [];
      if (node.opType === 'Shape') return;
      if (!ins.every((i) => !i || this.statics.has(i))) return;
      if (!H_OPS.has(node.opType!)) return;
      const outs = this.hostOp(node, index, ins.map((i) => (i ? { h: this.statics.get(i)! } : undefined)));
      (node.output ?? []).forEach((o, k) => { const v = outs[k]; if (o && v && isHost(v)) this.statics.set(o, v.h); });
    });
  }

  /** Metadata_props as a plain object. */
  metadata(): Record<string, string> {
    return Object.fromEntries((this.model.metadataProps ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  }

  /** Names of the nodes needed to compute `outputs`, in graph order. */
  private needed(outputs: string[]): Set<number> {
    const need = new Set<number>();
    const stack = [...outputs];
    const seen = new Set<string>();
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v) || this.statics.has(v)) continue;
      seen.add(v);
      const p = this.producer.get(v);
      if (!p) continue;
      need.add(p.index);
      for (const i of p.node.input ?? []) if (i) stack.push(i);
    }
    return need;
  }

  /**
   * Run the graph. Feeds are tf tensors (NCHW unless inputLayout is 'nhwc'). Returns tf tensors
   * (host results are uploaded). Call inside tf.tidy (or dispose the results) to free memory.
   */
  run(feeds: Record<string, tf.Tensor>, opts: RunOptions = {}): Record<string, tf.Tensor> {
    const want = opts.outputs ?? this.outputs;
    const env = new Map<string, Val>();
    for (const inp of this.inputs) {
      const t = feeds[inp.name];
      if (!t) throw new QatLensError(`no value fed for graph input '${inp.name}'`, this.file);
      env.set(inp.name, t.rank === 4 ? { t, nhwc: opts.inputLayout === 'nhwc' } : { t, nhwc: false });
    }
    const need = this.needed(want);
    const get = (name: string): Val | undefined => {
      if (!name) return undefined;
      const s = this.statics.get(name);
      if (s) return { h: s };
      const v = env.get(name);
      if (!v) throw new QatLensError(`value '${name}' is used before it is computed (graph not topologically sorted?)`, this.file);
      return v;
    };
    for (const index of [...need].sort((a, b) => a - b)) {
      const node = this.nodes[index];
      const ins = (node.input ?? []).map(get);
      let outs: (Val | undefined)[];
      try {
        const allHost = ins.every((v) => !v || isHost(v));
        if (node.opType === 'Shape' && ins[0]) outs = [{ h: shapeOf(ins[0]!, node) }];
        else if (allHost && H_OPS.has(node.opType!)) outs = this.hostOp(node, index, ins as ({ h: Host } | undefined)[]);
        else outs = runTfOp(node, ins, this);
      } catch (err) {
        if (err instanceof QatLensError) throw err;
        if (process.env.QC_DEBUG) console.error(err);
        throw new FormatError(this.file, `node '${nodeName(node, index)}' (${node.opType}): ${(err as Error).message}`);
      }
      (node.output ?? []).forEach((o, k) => {
        const v = outs[k];
        if (!o || !v) return;
        const hook = opts.hooks?.get(o);
        if (hook) {
          const tv = this.toTf(v);
          env.set(o, { t: hook(tv.t), nhwc: tv.nhwc });
        } else env.set(o, v);
      });
    }
    const result: Record<string, tf.Tensor> = {};
    for (const name of want) {
      const v = get(name)!;
      const tv = this.toTf(v);
      result[name] = opts.keepNhwc ? tv.t : toPlain(tv).t;
    }
    return result;
  }

  /** A host value as a tf tensor; static ones are uploaded once and cached. */
  toTf(v: Val, staticName?: string): TfVal {
    if (!isHost(v)) return v;
    const key = staticName ?? this.staticKey.get(v.h);
    if (key !== undefined) {
      let t = this.tfCache.get(key);
      if (!t) { t = tf.keep(tf.tensor(f32(v.h.data), v.h.shape, 'float32')); this.tfCache.set(key, t); }
      return { t, nhwc: false };
    }
    return { t: tf.tensor(f32(v.h.data), v.h.shape, 'float32'), nhwc: false };
  }

  /** A derived static tensor (a transposed filter...), computed once and kept. */
  cached(key: string, make: () => tf.Tensor): tf.Tensor {
    let t = this.tfCache.get(key);
    if (!t) { t = tf.keep(tf.tidy(make)); this.tfCache.set(key, t); }
    return t;
  }

  dispose(): void {
    for (const t of this.tfCache.values()) t.dispose();
    this.tfCache.clear();
  }

  private hostOp(node: onnx.INodeProto, index: number, ins: ({ h: Host } | undefined)[]): (Val | undefined)[] {
    const a = attrs(node);
    const x = ins.map((v) => v?.h);
    const op = node.opType!;
    try {
      return hostCompute(op, x, a).map((h) => (h ? { h } : undefined));
    } catch (err) {
      throw new FormatError(this.file, `node '${nodeName(node, index)}' (${op}): ${(err as Error).message}`);
    }
  }
}


export function nodeName(node: onnx.INodeProto, index: number): string {
  return node.name || `${node.opType}#${index}`;
}

export function attrs(node: onnx.INodeProto): Record<string, onnx.IAttributeProto> {
  return Object.fromEntries((node.attribute ?? []).map((a) => [a.name!, a]));
}
export const attrInt = (a: Record<string, onnx.IAttributeProto>, k: string, d: number): number => (a[k] ? toNumber(a[k].i) : d);
export const attrInts = (a: Record<string, onnx.IAttributeProto>, k: string, d: number[]): number[] => (a[k] ? (a[k].ints ?? []).map(toNumber) : d);
export const attrFloat = (a: Record<string, onnx.IAttributeProto>, k: string, d: number): number => (a[k] ? (a[k].f ?? d) : d);
export const attrStr = (a: Record<string, onnx.IAttributeProto>, k: string, d: string): string => (a[k]?.s ? Buffer.from(a[k].s!).toString() : d);

export function fromProto(t: onnx.ITensorProto, file: string): Host {
  const arr = tensorToArray(t, file);
  const data = arr instanceof Float32Array ? arr : arr instanceof BigInt64Array ? Float64Array.from(arr, (v) => Number(v)) : Float64Array.from(arr as ArrayLike<number>);
  return { shape: tensorShape(t), data, dtype: t.dataType === 10 || t.dataType === 16 ? 1 : (t.dataType ?? 1) };
}

/** NCHW shape of a value (an NHWC-kept tensor reports its ONNX shape). */
export function onnxShape(v: Val): number[] {
  if (isHost(v)) return v.h.shape;
  const s = v.t.shape as number[];
  return v.nhwc ? [s[0], s[3], s[1], s[2]] : s;
}

function shapeOf(v: Val, node: onnx.INodeProto): Host {
  let s = onnxShape(v);
  const a = attrs(node);
  const r = s.length;
  let start = attrInt(a, 'start', 0), end = attrInt(a, 'end', r);
  if (start < 0) start += r; if (end < 0) end += r;
  s = s.slice(Math.max(0, start), Math.min(r, end));
  return H.host([s.length], s, 7);
}

export function toPlain(v: TfVal): TfVal {
  return v.nhwc ? { t: tf.transpose(v.t, [0, 3, 1, 2]), nhwc: false } : v;
}
export function toNhwc(v: TfVal): TfVal {
  if (v.nhwc) return v;
  if (v.t.rank !== 4) throw new Error(`expected a rank-4 NCHW tensor, got shape [${v.t.shape}]`);
  return { t: tf.transpose(v.t, [0, 2, 3, 1]), nhwc: true };
}
/** NCHW axis -> position in the NHWC tensor. */
export const NHWC_AXIS = [0, 3, 1, 2];

const H_OPS = new Set(['Constant', 'Identity', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Cast', 'Range', 'Expand',
  'ConstantOfShape', 'Equal', 'Less', 'Greater', 'Where', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod', 'And', 'Or',
  'Not', 'Neg', 'Floor', 'Ceil', 'Sqrt', 'Abs', 'Exp', 'Reciprocal', 'Reshape', 'Transpose', 'DequantizeLinear',
  'QuantizeLinear', 'Clip', 'Flatten', 'Sigmoid', 'Relu']);

const ints = (h: Host | undefined): number[] => (h ? Array.from(h.data) : []);

function hostCompute(op: string, x: (Host | undefined)[], a: Record<string, onnx.IAttributeProto>): (Host | undefined)[] {
  const [x0, x1, x2] = x;
  switch (op) {
    case 'Constant': {
      if (a.value?.t) return [fromProto(a.value.t, '<Constant>')];
      if (a.value_float) return [H.host([], [a.value_float.f ?? 0], 1)];
      if (a.value_floats) return [H.host([a.value_floats.floats!.length], a.value_floats.floats!, 1)];
      if (a.value_int) return [H.host([], [toNumber(a.value_int.i)], 7)];
      if (a.value_ints) return [H.host([a.value_ints.ints!.length], a.value_ints.ints!.map(toNumber), 7)];
      throw new Error('Constant without a supported value attribute');
    }
    case 'Identity': return [x0];
    case 'Gather': return [H.gather(x0!, x1!, attrInt(a, 'axis', 0))];
    case 'Unsqueeze': {
      const axes = x1 ? ints(x1) : attrInts(a, 'axes', []);
      const r = x0!.shape.length + axes.length;
      const norm = axes.map((ax) => (ax < 0 ? ax + r : ax)).sort((p, q) => p - q);
      const shape = [...x0!.shape];
      for (const ax of norm) shape.splice(ax, 0, 1);
      return [{ ...x0!, shape }];
    }
    case 'Squeeze': {
      const axes = x1 ? ints(x1) : attrInts(a, 'axes', []);
      const r = x0!.shape.length;
      const norm = new Set(axes.map((ax) => (ax < 0 ? ax + r : ax)));
      return [{ ...x0!, shape: x0!.shape.filter((d, i) => (norm.size ? !norm.has(i) : d !== 1)) }];
    }
    case 'Concat': {
      const xs = x.filter((v): v is Host => !!v);
      const nonEmpty = xs.filter((v) => H.size(v.shape) > 0);
      return [H.concat(nonEmpty.length ? nonEmpty : xs, attrInt(a, 'axis', 0))];
    }
    case 'Slice': {
      const starts = x1 ? ints(x1) : attrInts(a, 'starts', []);
      const ends = x2 ? ints(x2) : attrInts(a, 'ends', []);
      const axes = x[3] ? ints(x[3]) : attrInts(a, 'axes', starts.map((_, i) => i));
      const steps = x[4] ? ints(x[4]) : starts.map(() => 1);
      return [H.slice(x0!, starts, ends, axes, steps)];
    }
    case 'Cast': return [H.cast(x0!, attrInt(a, 'to', 1))];
    case 'Range': return [H.range(x0!.data[0], x1!.data[0], x2!.data[0], x0!.dtype)];
    case 'Expand': return [H.expand(x0!, ints(x1))];
    case 'ConstantOfShape': {
      const v = a.value?.t ? fromProto(a.value.t, '<ConstantOfShape>') : H.host([1], [0], 1);
      const shape = ints(x0);
      return [{ shape, data: new Float64Array(H.size(shape)).fill(v.data[0]), dtype: v.dtype }];
    }
    case 'Equal': case 'Less': case 'Greater': case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow':
    case 'Max': case 'Min': case 'Mod': case 'And': case 'Or':
      if ((op === 'Max' || op === 'Min') && x.length !== 2) throw new Error(`${op} with ${x.length} inputs`);
      return [H.binary(op, x0!, x1!)];
    case 'Where': return [H.where(x0!, x1!, x2!)];
    case 'Not': case 'Neg': case 'Floor': case 'Ceil': case 'Sqrt': case 'Abs': case 'Exp': case 'Reciprocal': case 'Sigmoid': case 'Relu':
      return [H.unary(op, x0!)];
    case 'Reshape': return [{ ...x0!, shape: H.reshapeTarget(x0!.shape, ints(x1), attrInt(a, 'allowzero', 0) === 1) }];
    case 'Flatten': {
      const r = x0!.shape.length;
      let ax = attrInt(a, 'axis', 1); if (ax < 0) ax += r;
      return [{ ...x0!, shape: [H.size(x0!.shape.slice(0, ax)), H.size(x0!.shape.slice(ax))] }];
    }
    case 'Transpose': return [H.transpose(x0!, attrInts(a, 'perm', x0!.shape.map((_, i) => x0!.shape.length - 1 - i)))];
    case 'DequantizeLinear': return [H.dequantize(x0!, x1!, x2, attrInt(a, 'axis', 1))];
    case 'QuantizeLinear': return [H.quantize(x0!, x1!, x2, attrInt(a, 'axis', 1), x2 ? x2.dtype : 2)];
    case 'Clip': {
      const lo = x1 ? x1.data[0] : attrFloat(a, 'min', -Infinity), hi = x2 ? x2.data[0] : attrFloat(a, 'max', Infinity);
      const out = x0!.data.map((v) => Math.min(hi, Math.max(lo, v)));
      return [{ shape: x0!.shape, data: out, dtype: x0!.dtype }];
    }
  }
  throw new Error(`no host implementation of ${op}`);
}

const f32 = (d: Float32Array | Float64Array): Float32Array => (d instanceof Float32Array ? d : Float32Array.from(d));
