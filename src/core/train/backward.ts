// The BACKWARD training graph: inputs images, γ, β and dLoss/dHeads; it recomputes the forward and
// writes dLoss/dγ and dLoss/dβ per layer (dγ_c = Σ dh'·h, dβ_c = Σ dh' over N, H, W).
// Reverse mode over "units" in graph order: one ONNX node, or a fused group with one backward
// (a fake-quant chain, Sigmoid+Mul = SiLU, a layer's γ/β affine). Only units between a γ/β site and
// a head get a backward; an op there without one is an error naming it.
import { QatLensError } from '../errors';
import { GraphIndex } from '../onnx/graph';
import { onnx, tensorToArray, toNumber } from '../onnx/proto';
import { GraphBuilder } from './builder';
import { prune, type ForwardGraph } from './forward';
import { GRADS } from './grad';
import { nodeLabel, type Const, type GradCtx, type Unit } from './grad/types';

export interface BackwardGraph {
  model: onnx.ModelProto;
  /** dLoss/dHead input names, in the order of fwd.heads. */
  dHeads: string[];
  /** Gradients of the values asked for in `also` (for diagnostics and tests), by value name. */
  also: Record<string, string>;
  /** Output names per site; undefined where the site does not reach any head (gradient 0). */
  dGamma: (string | undefined)[];
  dBeta: (string | undefined)[];
}

interface AffineUnit extends Unit {
  site: number;
}

/** Group the forward graph's nodes into units, in order. */
function units(fwd: ForwardGraph, nodes: onnx.INodeProto[]): Unit[] {
  const chainOf = new Map<string, number>();
  fwd.chains.forEach((c, i) => {
    for (const n of c.nodes) chainOf.set(n.output![0], i);
  });
  const siteOf = new Map(fwd.sites.map((s, i) => [s.layer.output, i]));
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const heads = new Set(fwd.heads);
  const claimed = new Set<onnx.INodeProto>();
  const out: Unit[] = [];
  const byOutput = new Map<string, onnx.INodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) byOutput.set(o, n);
  for (const n of nodes) {
    if (claimed.has(n)) continue;
    const o = n.output![0];
    const ci = chainOf.get(o);
    if (ci !== undefined) {
      const c = fwd.chains[ci];
      const members = c.nodes.map((m) => byOutput.get(m.output![0])).filter((m): m is onnx.INodeProto => !!m);
      members.forEach((m) => claimed.add(m));
      // A chain value used outside the chain (other than its clip values, which the unit reads) would
      // need its own gradient: not written by the rewrite, so not expected.
      out.push({ kind: 'FakeQuant', node: n, inputs: [c.input], outputs: [c.output], chain: c });
      continue;
    }
    if (n.opType === 'Mul' && n.input!.length === 2) {
      // γ/β affine: Mul(pre, γ) -> Add(., β) writing the layer's output.
      const add = (consumers.get(o) ?? [])[0];
      const si = add ? siteOf.get(add.output![0]) : undefined;
      if (add && si !== undefined && n.input![1] === fwd.sites[si].gamma) {
        claimed.add(add);
        out.push({ kind: 'Affine', node: n, inputs: [fwd.sites[si].pre], outputs: [add.output![0]], site: si } as AffineUnit);
        continue;
      }
    }
    if (n.opType === 'Sigmoid') {
      const x = n.input![0];
      const users = consumers.get(o) ?? [];
      const mul = users[0];
      if (users.length === 1 && !heads.has(o) && mul.opType === 'Mul' && mul.input!.includes(x) && mul.input!.includes(o)) {
        claimed.add(mul);
        out.push({ kind: 'SiLU', node: mul, inputs: [x], outputs: [mul.output![0]], sigmoid: o });
        continue;
      }
    }
    out.push({ kind: n.opType!, node: n, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])] });
  }
  return out;
}

export interface BackwardOptions {
  /** For a GPU engine (see GradCtx.gpu). */
  gpu?: boolean;
  /** Also output the gradients of these forward values (diagnostics, tests). */
  also?: string[];
}

export function buildBackward(fwd: ForwardGraph, shapes: Map<string, number[]>, o: BackwardOptions = {}): BackwardGraph {
  const file = fwd.file;
  const g = fwd.model.graph!;
  const nodes = g.node!.map((n) => onnx.NodeProto.create(n));
  const index = new GraphIndex(g);
  const tensorOf = (name: string) => index.constant(name);
  const us = units(fwd, nodes);

  const active = new Set<string>();
  for (const u of us) {
    if (u.kind === 'Affine' || u.inputs.some((i) => i && active.has(i))) for (const o of u.outputs) if (o) active.add(o);
  }
  const b = new GraphBuilder('qcb');
  const ctx: GradCtx = {
    b,
    file,
    gpu: !!o.gpu,
    shape(v) {
      const s = shapes.get(v);
      if (!s) throw new QatLensError(`no shape known for value '${v}'`, file, 'ESHAPE');
      return s;
    },
    constant(v) {
      const t = tensorOf(v);
      if (!t) return undefined;
      const a = tensorToArray(t, file);
      const data = a instanceof Float32Array ? a : Float32Array.from(a instanceof BigInt64Array ? Array.from(a, Number) : (a as ArrayLike<number>));
      return { dims: (t.dims ?? []).map(toNumber), data } as Const;
    },
    ints(v, u) {
      const t = v ? tensorOf(v) : undefined;
      if (!t) throw new QatLensError(`QC cannot train through ${nodeLabel(u.node)}: its input '${v}' is computed, not a constant`, file, 'EOP');
      const a = tensorToArray(t, file);
      return a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a as ArrayLike<number>);
    },
    active: (v) => !!v && active.has(v),
    zerosLike: (v) => b.op('ConstantOfShape', [b.op('Shape', [v])], {}, 'zeros'),
    indicesOf(node) {
      const clone = nodes.find((n) => n.output![0] === node.output![0])!;
      if (clone.output!.length < 2 || !clone.output![1]) clone.output = [clone.output![0], `${clone.output![0]}__qc_argmax`];
      return clone.output![1];
    },
  };

  const grads = new Map<string, string[]>();
  const add = (v: string, gname: string) => {
    (grads.get(v) ?? grads.set(v, []).get(v)!).push(gname);
  };
  const total = (v: string): string | undefined => {
    const list = grads.get(v);
    if (!list?.length) return undefined;
    return list.length === 1 ? list[0] : b.op('Sum', list, {}, 'grad_sum');
  };
  const dHeads = fwd.heads.map((h, i) => {
    const name = `qc_dhead_${i}`;
    add(h, name);
    return name;
  });
  const dGamma: (string | undefined)[] = fwd.sites.map(() => undefined);
  const dBeta: (string | undefined)[] = fwd.sites.map(() => undefined);

  for (let k = us.length - 1; k >= 0; k--) {
    const u = us[k];
    if (!u.outputs.some((o) => active.has(o))) continue;
    const dys = u.outputs.map((o) => (o ? total(o) : undefined));
    if (dys.every((d) => !d)) continue;
    if (u.kind === 'Affine') {
      const si = (u as AffineUnit).site,
        s = fwd.sites[si],
        dy = dys[0]!;
      const axes = b.ints(s.sumAxes);
      dGamma[si] = b.op('ReduceSum', [b.op('Mul', [dy, s.pre], {}, `${s.layer.name}/dgamma`), axes], { keepdims: 0 }, `${s.layer.name}/dgamma`);
      dBeta[si] = b.op('ReduceSum', [dy, axes], { keepdims: 0 }, `${s.layer.name}/dbeta`);
      if (active.has(s.pre)) add(s.pre, b.op('Mul', [dy, s.gamma], {}, `${s.layer.name}/dh`));
      continue;
    }
    const fn = GRADS[u.kind];
    if (!fn) throw new QatLensError(`QC cannot train through ${nodeLabel(u.node)}: no backward for ${u.kind} (it lies between a quantized layer and a detection head)`, file, 'EOP');
    const dxs = fn(u, dys, ctx);
    u.inputs.forEach((x, i) => {
      const d = dxs[i];
      if (x && d && active.has(x)) add(x, d);
    });
  }

  const also: Record<string, string> = {};
  for (const v of o.also ?? []) {
    const d = total(v);
    if (d) also[v] = d;
  }
  const outputs = [...dGamma, ...dBeta, ...Object.values(also)].filter((x): x is string => !!x);
  const all = prune([...nodes, ...b.nodes], outputs);
  const used = new Set(all.flatMap((n) => n.input ?? []));
  const floatInput = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const graph = onnx.GraphProto.create({
    name: 'qc_backward',
    node: all,
    initializer: [...(g.initializer ?? []), ...b.inits].filter((t) => used.has(t.name!)),
    input: [...g.input!, ...fwd.heads.map((h, i) => floatInput(dHeads[i], ['batch', ...ctx.shape(h).slice(1)]))],
    output: outputs.map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } })),
  });
  return { model: onnx.ModelProto.create({ ...fwd.model, graph }), dHeads, dGamma, dBeta, also };
}
