// Logistic helpers shared by the losses, in float64.

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Binary cross-entropy on a logit x with target t (BCEWithLogitsLoss's stable form); d/dx = sigmoid(x) - t. */
export const bceLogit = (x: number, t: number): number => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));

/**
 * Σ BCE(x_i, 0) over x = data[from, from + n), writing scale * σ(x_i) into grad: the dense loops
 * (objectness, v8's classes) with one exp per logit; callers correct their few positives after.
 */
export function bceZeros(data: Float32Array, grad: Float32Array, from: number, n: number, scale: number): number {
  let sum = 0;
  for (let i = from; i < from + n; i++) {
    const x = data[i],
      e = Math.exp(-Math.abs(x));
    sum += Math.max(x, 0) + Math.log1p(e);
    grad[i] = (scale * (x >= 0 ? 1 : e)) / (1 + e);
  }
  return sum;
}
