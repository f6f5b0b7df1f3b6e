// Backward of the activations: Sigmoid, SiLU (Sigmoid + Mul, fused: 4 elementwise ops instead of 7),
// Relu, LeakyRelu and a float Clip (ReLU6...). Masks follow tfjs/PyTorch: Relu passes where x > 0,
// Clip where the value was not clipped (x == clip(x)).
import { attrFloat } from '../../onnx/graph';
import { type GradCtx, type GradFn } from './types';

const one = (ctx: GradCtx) => ctx.b.floats([1], []);
const zero = (ctx: GradCtx) => ctx.b.floats([0], []);

const sigmoid: GradFn = (u, [dy], ctx) => {
  if (!dy) return [undefined];
  const y = u.outputs[0];
  const t = ctx.b.op('Mul', [y, ctx.b.op('Sub', [one(ctx), y])]);
  return [ctx.b.op('Mul', [dy, t])];
};

/** y = x·σ(x): dy/dx = σ + y·(1 − σ). */
const silu: GradFn = (u, [dy], ctx) => {
  if (!dy) return [undefined];
  const s = u.sigmoid!,
    y = u.outputs[0];
  const t = ctx.b.op('Add', [s, ctx.b.op('Mul', [y, ctx.b.op('Sub', [one(ctx), s])])]);
  return [ctx.b.op('Mul', [dy, t])];
};

const relu: GradFn = (u, [dy], ctx) => {
  if (!dy) return [undefined];
  return [ctx.b.op('Where', [ctx.b.op('Greater', [u.inputs[0], zero(ctx)]), dy, zero(ctx)])];
};

const leakyRelu: GradFn = (u, [dy], ctx) => {
  if (!dy) return [undefined];
  const alpha = attrFloat(u.node, 'alpha', 0.01);
  const pos = ctx.b.op('Greater', [u.inputs[0], zero(ctx)]);
  return [ctx.b.op('Where', [pos, dy, ctx.b.op('Mul', [dy, ctx.b.floats([alpha], [])])])];
};

const clip: GradFn = (u, [dy], ctx) => {
  if (!dy) return [undefined];
  return [ctx.b.op('Where', [ctx.b.op('Equal', [u.inputs[0], u.outputs[0]]), dy, zero(ctx)]), undefined, undefined];
};

export const activationGrads: Record<string, GradFn> = { Sigmoid: sigmoid, SiLU: silu, Relu: relu, LeakyRelu: leakyRelu, Clip: clip };
