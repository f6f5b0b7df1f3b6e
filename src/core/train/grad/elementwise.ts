// Backward of the broadcasting arithmetic ops (Add, Sub, Mul, Div, Sum, Identity). A gradient that
// reaches an input smaller than the output (numpy broadcasting) is summed over the broadcast axes.
import { QatLensError } from '../../errors';
import { nodeLabel, type GradCtx, type GradFn, type Unit } from './types';

/** Sum `g` (shaped like `out`) down to the shape of forward value `x`. */
export function unbroadcast(g: string, x: string, out: string, ctx: GradCtx): string {
  const xs = ctx.shape(x),
    os = ctx.shape(out);
  const lead = os.length - xs.length;
  const axes: number[] = [];
  for (let i = 0; i < os.length; i++) {
    const d = i < lead ? 1 : xs[i - lead];
    if (i < lead || (d === 1 && os[i] !== 1)) axes.push(i);
  }
  if (!axes.length) return g;
  let r = ctx.b.op('ReduceSum', [g, ctx.b.ints(axes)], { keepdims: 1 });
  if (lead > 0) r = ctx.b.op('Reshape', [r, ctx.b.ints(xs)]);
  return r;
}

const addSub: GradFn = (u, [dy], ctx) =>
  u.inputs.map((x, i) => {
    if (!dy || !ctx.active(x)) return undefined;
    const g = u.kind === 'Sub' && i === 1 ? ctx.b.op('Neg', [dy]) : dy;
    return unbroadcast(g, x, u.outputs[0], ctx);
  });

const mul: GradFn = (u, [dy], ctx) => {
  const [a, c] = u.inputs;
  // x * x: both slots are the same value; the caller sums the two contributions.
  return [a, c].map((x, i) => (dy && ctx.active(x) ? unbroadcast(ctx.b.op('Mul', [dy, i === 0 ? c : a]), x, u.outputs[0], ctx) : undefined));
};

const div: GradFn = (u, [dy], ctx) => {
  const [a, c] = u.inputs;
  if (!dy) return [undefined, undefined];
  if (ctx.active(c)) {
    // d(a/c)/dc = -y / c
    const da = ctx.active(a) ? unbroadcast(ctx.b.op('Div', [dy, c]), a, u.outputs[0], ctx) : undefined;
    const dc = ctx.b.op('Neg', [ctx.b.op('Div', [ctx.b.op('Mul', [dy, u.outputs[0]]), c])]);
    return [da, unbroadcast(dc, c, u.outputs[0], ctx)];
  }
  const k = ctx.constant(c);
  // Division by a scalar constant: one multiply by its reciprocal.
  const g = k && k.data.length === 1 ? ctx.b.op('Mul', [dy, ctx.b.floats([1 / k.data[0]], [])]) : ctx.b.op('Div', [dy, c]);
  return [unbroadcast(g, a, u.outputs[0], ctx), undefined];
};

const sum: GradFn = (u, [dy], ctx) => u.inputs.map((x) => (dy && ctx.active(x) ? unbroadcast(dy, x, u.outputs[0], ctx) : undefined));

const identity: GradFn = (u, [dy]) => [dy];

const neg: GradFn = (u, [dy], ctx) => [dy ? ctx.b.op('Neg', [dy]) : undefined];

export const elementwiseGrads: Record<string, GradFn> = { Add: addSub, Sub: addSub, Mul: mul, Div: div, Sum: sum, Identity: identity, Neg: neg };

export function unsupported(u: Unit, why: string, file: string): never {
  throw new QatLensError(`QC cannot train through ${nodeLabel(u.node)}: ${why}`, file, 'EOP');
}
