// An index over an ONNX graph: who produces and who consumes each tensor, the constant tensors
// (initializers, Constant nodes, Identity of a constant), node lookup by name, and the attribute
// helpers. Every reader, rewrite, probe and trainer that walks a graph builds one of these instead
// of its own maps, so a node is named the same way everywhere (nodeName).
import { DataType, makeTensor, onnx, toNumber } from './proto';

export type Node = onnx.INodeProto;

/**
 * The one naming rule for nodes: the node's own name, else `${opType}#${index}` (index in
 * graph.node). '#' never occurs in exporter-made names (PyTorch's older exports name nodes
 * `Conv_12`), so a made-up name cannot collide with a real one.
 */
export function nodeName(node: Node, index: number): string {
  return node.name || `${node.opType}#${index}`;
}

/** Attribute `name` of a node, or undefined. */
export function attr(node: Node, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
export function attrInt(node: Node, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? toNumber(a.i) : dflt;
}
export function attrInts(node: Node, name: string, dflt: number[]): number[] {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(toNumber) : dflt;
}
export function attrFloat(node: Node, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? dflt) : dflt;
}
export function attrStr(node: Node, name: string, dflt: string): string {
  const a = attr(node, name);
  return a?.s ? Buffer.from(a.s).toString() : dflt;
}
export function attrTensor(node: Node, name: string): onnx.ITensorProto | undefined {
  return attr(node, name)?.t ?? undefined;
}

/** The tensor a Constant node outputs (value, value_float(s), value_int(s)), named as its output. */
export function constantNodeValue(node: Node): onnx.ITensorProto | undefined {
  const out = node.output?.[0] ?? '';
  const t = attrTensor(node, 'value');
  if (t) return { ...t, name: out };
  const f = attr(node, 'value_float');
  if (f) return makeTensor(out, [], [f.f ?? 0], DataType.FLOAT);
  const fs = attr(node, 'value_floats');
  if (fs) return makeTensor(out, [fs.floats?.length ?? 0], fs.floats ?? [], DataType.FLOAT);
  const i = attr(node, 'value_int');
  if (i) return makeTensor(out, [], [BigInt(toNumber(i.i))], DataType.INT64);
  const is = attr(node, 'value_ints');
  if (is)
    return makeTensor(
      out,
      [is.ints?.length ?? 0],
      (is.ints ?? []).map((v) => BigInt(toNumber(v))),
      DataType.INT64,
    );
  return undefined;
}

export class GraphIndex {
  readonly graph: onnx.IGraphProto;
  readonly nodes: Node[];
  /** Initializers by name. */
  readonly initializers = new Map<string, onnx.ITensorProto>();
  /** The node that writes each tensor. */
  readonly producer = new Map<string, Node>();
  /** The nodes that read each tensor (a node reading it twice is listed once). */
  readonly consumers = new Map<string, Node[]>();
  private readonly index = new Map<Node, number>();
  private byName?: Map<string, Node>;
  private readonly constCache = new Map<string, onnx.ITensorProto | null>();

  constructor(graph: onnx.IGraphProto) {
    this.graph = graph;
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    this.nodes.forEach((n, i) => {
      this.index.set(n, i);
      for (const o of n.output ?? []) if (o) this.producer.set(o, n);
      for (const x of new Set(n.input ?? [])) if (x) (this.consumers.get(x) ?? this.consumers.set(x, []).get(x)!).push(n);
    });
  }

  /** Position of a node in graph.node. */
  indexOf(node: Node): number {
    const i = this.index.get(node);
    if (i === undefined) throw new Error(`node ${node.opType} '${node.name ?? ''}' is not in this graph`);
    return i;
  }

  /** The node's name under the one naming rule (nodeName). */
  name(node: Node): string {
    return nodeName(node, this.indexOf(node));
  }

  /** The node called `name` (nodeName), or undefined. */
  node(name: string): Node | undefined {
    if (!this.byName) {
      this.byName = new Map();
      this.nodes.forEach((n, i) => this.byName!.set(nodeName(n, i), n));
    }
    return this.byName.get(name);
  }

  /**
   * The constant value of a tensor: an initializer, a Constant node's output, or the Identity of a
   * constant (some exporters route initializers through Identity); undefined if computed.
   */
  constant(name: string | undefined | null): onnx.ITensorProto | undefined {
    if (!name) return undefined;
    const hit = this.constCache.get(name);
    if (hit !== undefined) return hit ?? undefined;
    this.constCache.set(name, null); // guards against Identity cycles in a malformed graph
    let t = this.initializers.get(name);
    if (!t) {
      const p = this.producer.get(name);
      if (p?.opType === 'Constant') t = constantNodeValue(p);
      else if (p?.opType === 'Identity') t = this.constant(p.input?.[0]);
    }
    this.constCache.set(name, t ?? null);
    return t;
  }

  /** Consumers of a tensor with the input slot(s) where they read it. */
  uses(tensor: string): { node: Node; slot: number }[] {
    const out: { node: Node; slot: number }[] = [];
    for (const n of this.consumers.get(tensor) ?? [])
      (n.input ?? []).forEach((x, slot) => {
        if (x === tensor) out.push({ node: n, slot });
      });
    return out;
  }
}

export function indexGraph(graph: onnx.IGraphProto): GraphIndex {
  return new GraphIndex(graph);
}
