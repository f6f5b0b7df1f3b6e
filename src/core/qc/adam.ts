// Adam on QC's small γ/β arrays, in float32 with the operation order of TensorFlow.js's AdamOptimizer
// (the optimizer QC used before the onnxruntime engine), so a run's loss curve matches the tfjs run's:
//   m <- β1·m + (1-β1)·g;  v <- β2·v + (1-β2)·g²;  p <- p - lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)
// with β1^t, β2^t kept as running float32 products, as tfjs keeps accBeta1/accBeta2.
const f = Math.fround;

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private accBeta1: number;
  private accBeta2: number;
  /** Steps taken. */
  t = 0;

  constructor(shapes: number[], o: AdamOptions) {
    this.lr = o.lr;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.m = shapes.map((n) => new Float32Array(n));
    this.v = shapes.map((n) => new Float32Array(n));
    this.accBeta1 = f(this.beta1);
    this.accBeta2 = f(this.beta2);
  }

  /** One update of `params[i]` in place by `grads[i]`; `lr` overrides the rate for this step (a schedule). */
  step(params: Float32Array[], grads: Float32Array[], lr = this.lr): void {
    const b1 = f(this.beta1),
      b2 = f(this.beta2),
      c1 = f(1 - this.beta1),
      c2 = f(1 - this.beta2);
    const d1 = f(1 - this.accBeta1),
      d2 = f(1 - this.accBeta2);
    const eps = f(this.eps),
      nlr = f(-lr);
    params.forEach((p, i) => {
      const g = grads[i],
        m = this.m[i],
        v = this.v[i];
      for (let k = 0; k < p.length; k++) {
        const gk = g[k];
        const mk = f(f(m[k] * b1) + f(gk * c1));
        const vk = f(f(v[k] * b2) + f(f(gk * gk) * c2));
        m[k] = mk;
        v[k] = vk;
        const mh = f(mk / d1),
          vh = f(vk / d2);
        p[k] = f(f(f(mh / f(f(Math.sqrt(vh)) + eps)) * nlr) + p[k]);
      }
    });
    this.accBeta1 = f(this.accBeta1 * b1);
    this.accBeta2 = f(this.accBeta2 * b2);
    this.t++;
  }
}
