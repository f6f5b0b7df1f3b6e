// A small writer of ONNX nodes and initializers for the generated training graphs: fresh value
// names, typed attributes, and constants shared by value (one initializer per distinct scalar).
import { DataType, makeTensor, onnx } from '../onnx/proto';

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

const A = onnx.AttributeProto.AttributeType;

function attribute(name: string, v: AttrValue): onnx.AttributeProto {
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: A.STRING, s: Buffer.from(v) });
  if (typeof v === 'number') return onnx.AttributeProto.create({ name, type: A.INT, i: v });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: v });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: A.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: A.FLOATS, floats: v.floats });
}

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly inits: onnx.ITensorProto[] = [];
  private uid = 0;
  private readonly consts = new Map<string, string>();

  /** `tag` keeps generated names apart from the model's own (and from another builder's). */
  constructor(private readonly tag: string) {}

  fresh(base: string): string {
    return `${base.replace(/[^A-Za-z0-9_.:/]/g, '_')}__${this.tag}${this.uid++}`;
  }

  /** Append a node; returns its output names (`outputs` fresh ones unless given). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: number | string[] = 1, base = op): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(base)) : outputs;
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        input: inputs,
        output: outs,
        name: this.fresh(`${base}/${op}`),
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs;
  }

  /** One-output node. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base = op): string {
    return this.node(op, inputs, attrs, 1, base)[0];
  }

  /** A float32 initializer (scalars are shared by value). */
  floats(values: ArrayLike<number>, dims: number[], base = 'const'): string {
    const key = dims.length === 0 ? `f:${Math.fround(values[0])}` : undefined;
    if (key && this.consts.has(key)) return this.consts.get(key)!;
    const name = this.fresh(base);
    this.inits.push(makeTensor(name, dims, values, DataType.FLOAT));
    if (key) this.consts.set(key, name);
    return name;
  }

  /** An int64 vector initializer (shapes, axes, pads), shared by value. */
  ints(values: number[], base = 'ints'): string {
    const key = `i:${values.join(',')}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const name = this.fresh(base);
    this.inits.push(
      makeTensor(
        name,
        [values.length],
        values.map((v) => BigInt(v)),
        DataType.INT64,
      ),
    );
    this.consts.set(key, name);
    return name;
  }
}
