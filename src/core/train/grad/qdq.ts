// Backward of a fake-quant chain (activation QuantizeLinear -> [Clip] -> DequantizeLinear, written
// as float arithmetic by infer/qdqToFloat.ts): straight-through rounding with the clip mask, as
// qc/tfOps.ts does it — the gradient passes where lo <= round(x / s_in) + z <= hi, times s_out / s_in.
// Two full-size ops (Equal, Where) when the scales match, three otherwise.
import type { GradFn } from './types';

const fakeQuant: GradFn = (u, [dy], ctx) => {
  if (!dy) return [undefined];
  const c = u.chain!;
  const k = Math.fround(c.scaleOut) / Math.fround(c.scaleIn);
  const pass = ctx.b.op('Equal', [c.clipIn, c.clipOut]);
  const g = Math.fround(k) === 1 ? dy : ctx.b.op('Mul', [dy, ctx.b.floats([k], [])]);
  return [ctx.b.op('Where', [pass, g, ctx.b.floats([0], [])])];
};

export const qdqGrads: Record<string, GradFn> = { FakeQuant: fakeQuant };
