// Logistic helpers shared by the losses, in float64.

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Binary cross-entropy on a logit x with target t (BCEWithLogitsLoss's stable form); d/dx = sigmoid(x) - t. */
export const bceLogit = (x: number, t: number): number => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
