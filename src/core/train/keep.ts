// Keep instead of recompute (CPU engine): the backward graph (backward.ts) recomputes the forward inside
// its own session. Split it instead into
//   - a KEEP forward: the forward graph plus every backward node that does not depend on dLoss/dHeads
//     (fake-quant masks, SiLU/Sigmoid derivatives, MaxPool indices, shapes), "hoisted" into the forward
//     and ordered so that onnxruntime runs each as soon as its inputs exist (leavesLast); it outputs
//     the heads and the SAVED values: whatever the remaining backward nodes read from that part;
//   - a GRADIENT graph: only those remaining nodes, with the saved values as graph inputs.
// The same nodes compute the same values either way, so the gradients are the recompute graph's.
// One rewrite on top: the two straight-through factors of a fake-quant chain feeding a SiLU,
// Mul(Mul(dy, mask), t) with mask a 0/1 Cast, become Mul(dy, Mul(mask, t)) — exact (a product with 1
// or 0) — so one saved tensor (mask·t) replaces two and the backward does one pass fewer per layer.
import { onnx, toNumber } from '../onnx/proto';
import type { BackwardGraph } from './backward';
import { prune, type ForwardGraph } from './forward';

export interface KeepGraphs {
  /** Forward + hoisted nodes; outputs: the heads, then `saved`. */
  forward: onnx.ModelProto;
  /** Gradient nodes only; inputs: γ (where read), `saved`, dHeads; outputs as the backward's. */
  backward: onnx.ModelProto;
  /** The values carried from one to the other, with their ONNX element types. */
  saved: { name: string; elemType: number }[];
}

/** Ops whose output is large from a small input: left in the gradient graph (the shape is saved instead). */
const EXPANDING = new Set(['ConstantOfShape', 'Expand', 'Tile']);
const SAME_TYPE = new Set([
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Identity',
  'Slice',
  'Concat',
  'Split',
  'Pad',
  'Neg',
  'Abs',
  'Mul',
  'Add',
  'Sub',
  'Div',
  'Sum',
  'ReduceSum',
  'Max',
  'Min',
  'Where',
]);
const BOOL = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Not', 'Xor']);

export function splitKeep(fwd: ForwardGraph, bwd: BackwardGraph): KeepGraphs {
  const fg = fwd.model.graph!,
    bg = bwd.model.graph!;
  const fwdValues = new Set(fg.node!.flatMap((n) => n.output ?? []));
  const inits = new Map((bg.initializer ?? []).map((t) => [t.name!, t]));
  const isFwdNode = (n: onnx.INodeProto) => fwdValues.has(n.output![0]);
  const dHeads = new Set(bwd.dHeads);
  const bools = new Set(bg.node!.filter((n) => BOOL.has(n.opType!)).flatMap((n) => n.output ?? []));
  const types0 = (v: string) => bools.has(v);
  const nodes = fuseMaskProducts(
    bg.node!.map((n) => onnx.NodeProto.create(n)),
    dHeads,
  );

  // Values that depend on dLoss/dHeads; the rest of the gradient nodes can run in the forward.
  const dep = new Set<string>(dHeads);
  const hoisted = new Set<onnx.INodeProto>();
  const early = new Set<string>([...fwdValues, ...(fg.input ?? []).map((i) => i.name!)]);
  for (const n of nodes) {
    if (isFwdNode(n)) {
      for (const o of n.output ?? []) if (o) early.add(o); // MaxPool's indices output
      continue;
    }
    const ins = (n.input ?? []).filter((i) => i && !inits.has(i));
    if (ins.some((i) => dep.has(i))) {
      for (const o of n.output ?? []) dep.add(o);
      continue;
    }
    if (!EXPANDING.has(n.opType!) && ins.length > 0 && ins.every((i) => early.has(i))) {
      hoisted.add(n);
      for (const o of n.output ?? []) early.add(o);
    }
  }
  // A mask read only by the gradient graph travels as the boolean (1 byte, not 4); the Cast runs there.
  for (const n of hoisted) if (n.opType === 'Cast' && types0(n.input![0]) && !nodes.some((u) => hoisted.has(u) && u.input!.includes(n.output![0]))) hoisted.delete(n);
  const grad = prune(
    nodes.filter((n) => !isFwdNode(n) && !hoisted.has(n)),
    bg.output!.map((o) => o.name!),
  );
  const gradOutputs = new Set(grad.flatMap((n) => n.output ?? []));
  const params = new Set((fg.input ?? []).slice(1).map((i) => i.name!));
  const saved: string[] = [];
  const seen = new Set<string>();
  for (const n of grad)
    for (const i of n.input ?? [])
      if (i && !seen.has(i) && !inits.has(i) && !gradOutputs.has(i) && !dHeads.has(i) && !params.has(i)) {
        seen.add(i);
        saved.push(i);
      }

  // Keep forward: forward nodes (MaxPools with the indices output the backward asked for) and the
  // hoisted nodes, each right after the last node that writes one of its inputs.
  const clones = new Map(nodes.filter(isFwdNode).map((n) => [n.output![0], n]));
  const base = fg.node!.map((n) => clones.get(n.output![0]) ?? onnx.NodeProto.create(n));
  const pos = new Map<string, number>();
  base.forEach((n, i) => (n.output ?? []).forEach((o) => pos.set(o, i)));
  const placed = [...hoisted].map((n, seq) => {
    const at = Math.max(-1, ...(n.input ?? []).map((i) => pos.get(i) ?? -1));
    for (const o of n.output ?? []) pos.set(o, at);
    return { n, at, seq };
  });
  const after = new Map<number, onnx.INodeProto[]>();
  for (const p of placed.sort((a, b) => a.at - b.at || a.seq - b.seq)) (after.get(p.at) ?? after.set(p.at, []).get(p.at)!).push(p.n);
  const fnodes = leavesLast(prune([...(after.get(-1) ?? []), ...base.flatMap((n, i) => [n, ...(after.get(i) ?? [])])], [...fwd.heads, ...saved]));

  const types = elemTypes(
    [...fnodes],
    new Map([
      ...[...(fg.initializer ?? []), ...(bg.initializer ?? [])].map((t) => [t.name!, t.dataType ?? 1] as [string, number]),
      ...(fg.input ?? []).map((i) => [i.name!, i.type?.tensorType?.elemType ?? 1] as [string, number]),
    ]),
  );
  const typed = saved.map((name) => ({ name, elemType: types.get(name) ?? 1 }));
  const vi = (name: string, elemType: number) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType } } });

  const usedF = new Set(fnodes.flatMap((n) => n.input ?? []));
  const allInits = [...new Map([...(fg.initializer ?? []), ...(bg.initializer ?? [])].map((t) => [t.name!, t])).values()];
  const forward = onnx.ModelProto.create({
    ...fwd.model,
    graph: onnx.GraphProto.create({
      name: 'qc_forward_keep',
      node: fnodes,
      initializer: allInits.filter((t) => usedF.has(t.name!)),
      input: fg.input,
      output: [...fg.output!, ...typed.filter((s) => !fwd.heads.includes(s.name)).map((s) => vi(s.name, s.elemType))],
    }),
  });
  const usedB = new Set(grad.flatMap((n) => n.input ?? []));
  const backward = onnx.ModelProto.create({
    ...bwd.model,
    graph: onnx.GraphProto.create({
      name: 'qc_gradient',
      node: grad,
      initializer: (bg.initializer ?? []).filter((t) => usedB.has(t.name!)),
      input: [...(fg.input ?? []).slice(1).filter((i) => usedB.has(i.name!)), ...typed.map((s) => vi(s.name, s.elemType)), ...bg.input!.filter((i) => dHeads.has(i.name!))],
      output: bg.output,
    }),
  });
  return { forward, backward, saved: typed };
}

/** Element type of every value the nodes write (float unless an op says otherwise). */
function elemTypes(nodes: onnx.INodeProto[], known: Map<string, number>): Map<string, number> {
  const t = new Map(known);
  for (const n of nodes) {
    const outs = n.output ?? [];
    let ty = 1;
    if (BOOL.has(n.opType!)) ty = 9;
    else if (n.opType === 'Shape' || n.opType === 'ArgMax' || n.opType === 'ArgMin') ty = 7;
    else if (n.opType === 'Cast') ty = toNumber(n.attribute!.find((a) => a.name === 'to')!.i!);
    else if (SAME_TYPE.has(n.opType!)) ty = t.get(n.input![0]) ?? 1;
    outs.forEach((o, k) => o && t.set(o, n.opType === 'MaxPool' && k === 1 ? 7 : ty));
  }
  return t;
}

/**
 * Mul(Mul(dy, a), b) -> Mul(dy, Mul(a, b)) where a or b is a Cast of a boolean (0 or 1): exactly the
 * same values (a product with 1, or a zero), and Mul(a, b) no longer depends on dy, so it is hoisted
 * and saved as one tensor. Applied in order, so a chain mask·t·mask' becomes one factor.
 */
function fuseMaskProducts(nodes: onnx.INodeProto[], dHeads: Set<string>): onnx.INodeProto[] {
  const producer = new Map<string, onnx.INodeProto>();
  const uses = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  const isMask = (v: string): boolean => {
    const p = producer.get(v);
    if (p?.opType === 'Split') return isMask(p.input![0]);
    return p?.opType === 'Cast' && BOOL.has(producer.get(p.input![0])?.opType ?? '');
  };
  // Split(Mul(dy, m)) -> Mul(Split(dy)_i, Split(m)_i): a mask applied before a Concat's backward
  // reaches the factors of each part (a SiLU before the Concat).
  const extra: onnx.INodeProto[] = [];
  const dead = new Set<onnx.INodeProto>();
  for (const split of nodes) {
    if (split.opType !== 'Split') continue;
    const mul = producer.get(split.input![0]);
    if (mul?.opType !== 'Mul' || uses.get(mul.output![0]) !== 1) continue;
    const m = mul.input!.findIndex(isMask);
    if (m < 0) continue;
    const mask = mul.input![m],
      dy = mul.input![1 - m];
    const parts = split.output!.map((o) => `${o}__keep_dy`),
      masks = split.output!.map((o) => `${o}__keep_mask`);
    extra.push(onnx.NodeProto.create({ ...split, name: `${split.name}__keep_mask`, input: [mask, ...split.input!.slice(1)], output: masks }));
    split.output!.forEach((o, i) => extra.push(onnx.NodeProto.create({ opType: 'Mul', name: `${o}__keep_mul`, input: [parts[i], masks[i]], output: [o] })));
    split.input = [dy, ...split.input!.slice(1)];
    split.output = parts;
    dead.add(mul);
  }
  if (extra.length) return fuseMaskProducts(topoSort([...nodes.filter((n) => !dead.has(n)), ...extra]), dHeads);
  // Values that depend on dLoss/dHeads (the nodes are in graph order).
  const dep = new Set(dHeads);
  for (const n of nodes) if ((n.input ?? []).some((i) => dep.has(i))) for (const o of n.output ?? []) dep.add(o);
  for (const outer of nodes) {
    if (outer.opType !== 'Mul') continue;
    for (const k of [0, 1]) {
      const inner = producer.get(outer.input![k]);
      const b = outer.input![1 - k];
      if (inner?.opType !== 'Mul' || uses.get(inner.output![0]) !== 1 || dep.has(b)) continue;
      const d = inner.input!.findIndex((i) => dep.has(i));
      if (d < 0) continue;
      const dy = inner.input![d],
        a = inner.input![1 - d];
      if (dep.has(a) || !(isMask(a) || isMask(b))) continue;
      inner.input = [a, b];
      outer.input = [dy, inner.output![0]];
      break;
    }
  }
  // inner moved after its new input t's producer may come later than inner: re-sort by dependencies.
  return topoSort(nodes);
}

function topoSort(nodes: onnx.INodeProto[]): onnx.INodeProto[] {
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const done = new Set<onnx.INodeProto>();
  const out: onnx.INodeProto[] = [];
  // Iterative depth-first order (the graphs are thousands of nodes deep).
  for (const root of nodes) {
    const stack: [onnx.INodeProto, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, k] = top;
      if (k === 0 && done.has(n)) {
        stack.pop();
        continue;
      }
      done.add(n);
      const ins = n.input ?? [];
      if (k < ins.length) {
        top[1]++;
        const p = producer.get(ins[k]);
        if (p && !done.has(p)) stack.push([p, 0]);
        continue;
      }
      stack.pop();
      out.push(n);
    }
  }
  return out;
}

/**
 * onnxruntime orders execution by a depth-first walk back from the graph's leaf nodes (nodes nobody
 * reads), taking the LAST leaf first: a leaf's whole ancestry runs before the next leaf's. Hoisted
 * leaves (kept values) are put last, the earliest layer's at the very end, so each runs as soon as
 * its inputs exist instead of after the heads (which kept every intermediate they read alive: example,
 * batch 16, peak memory of a QC run 1375 MB against 999 MB ordered so; the recompute path's 916 MB).
 */
function leavesLast(nodes: onnx.INodeProto[]): onnx.INodeProto[] {
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  const isLeaf = (n: onnx.INodeProto) => !(n.output ?? []).some((o) => read.has(o));
  const leaves = nodes.filter(isLeaf);
  return [...nodes.filter((n) => !isLeaf(n)), ...leaves.reverse()];
}
