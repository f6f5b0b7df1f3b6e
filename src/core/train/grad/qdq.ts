// Backward of a fake-quant chain (activation QuantizeLinear -> [Clip] -> DequantizeLinear, written
// as float arithmetic by infer/qdqToFloat.ts): straight-through rounding with the clip mask, as
// qc/tfOps.ts does it — the gradient passes where lo <= round(x / s_in) + z <= hi, times s_out / s_in.
// Three full-size ops (Equal, Cast, Mul) when the scales match, four otherwise.
import type { GradFn } from './types';

const fakeQuant: GradFn = (u, [dy], ctx) => {
  if (!dy) return [undefined];
  const c = u.chain!;
  const k = Math.fround(c.scaleOut) / Math.fround(c.scaleIn);
  const pass = ctx.b.op('Equal', [c.clipIn, c.clipOut]);
  const g = Math.fround(k) === 1 ? dy : ctx.b.op('Mul', [dy, ctx.b.floats([k], [])]);
  // g · float(pass), not Where(pass, g, 0): the same values (g or a zero), and onnxruntime's CPU Where
  // is slower (profile, example at batch 16: 2 ms per layer against about 1.2 ms for Cast + Mul).
  return [ctx.b.op('Mul', [g, ctx.b.op('Cast', [pass], { to: 1 })])];
};

export const qdqGrads: Record<string, GradFn> = { FakeQuant: fakeQuant };
