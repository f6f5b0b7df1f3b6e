// YOLOv5's detection loss (ultralytics/yolov5 utils/loss.py ComputeLoss) in TensorFlow.js:
// build_targets' anchor matching (ratio < anchor_t, the two nearest neighbour cells at g = 0.5),
// CIoU box loss, BCE objectness against the detached IoU (gr = 1.0) weighted by the per-scale
// balance, BCE class loss, and train.py's gain scaling. Checked against a PyTorch copy of the same
// code (tools/fixtures/qc/yolo_loss_ref.py) in test/qc-loss.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './tfOps';
import { anchorsInGrid, buildTargets } from './loss/anchorMatch';
import type { Target, YoloLossConfig } from './loss/types';

// The matching and the types live with the TypeScript losses (src/core/qc/loss/); re-exported for
// the tfjs path until it is retired.
export { anchorsInGrid, buildTargets, type ScaleTargets } from './loss/anchorMatch';
export type { Target, YoloLossConfig } from './loss/types';

/** CIoU of boxes given as columns (x, y, w, h) of [n, 4] tensors (bbox_iou(..., CIoU=True)). */
export function ciou(b1: tf.Tensor2D, b2: tf.Tensor2D, eps = 1e-7): tf.Tensor1D {
  const [x1, y1, w1, h1] = tf.unstack(b1, 1);
  const [x2, y2, w2, h2] = tf.unstack(b2, 1);
  const b1x1 = tf.sub(x1, tf.div(w1, 2)), b1x2 = tf.add(x1, tf.div(w1, 2));
  const b1y1 = tf.sub(y1, tf.div(h1, 2)), b1y2 = tf.add(y1, tf.div(h1, 2));
  const b2x1 = tf.sub(x2, tf.div(w2, 2)), b2x2 = tf.add(x2, tf.div(w2, 2));
  const b2y1 = tf.sub(y2, tf.div(h2, 2)), b2y2 = tf.add(y2, tf.div(h2, 2));
  const inter = tf.mul(
    tf.relu(tf.sub(tf.minimum(b1x2, b2x2), tf.maximum(b1x1, b2x1))),
    tf.relu(tf.sub(tf.minimum(b1y2, b2y2), tf.maximum(b1y1, b2y1))));
  const union = tf.add(tf.sub(tf.add(tf.mul(w1, h1), tf.mul(w2, h2)), inter), eps);
  const iou = tf.div(inter, union);
  const cw = tf.sub(tf.maximum(b1x2, b2x2), tf.minimum(b1x1, b2x1));
  const ch = tf.sub(tf.maximum(b1y2, b2y2), tf.minimum(b1y1, b2y1));
  const c2 = tf.add(tf.add(tf.square(cw), tf.square(ch)), eps);
  const rho2 = tf.div(tf.add(
    tf.square(tf.sub(tf.sub(tf.add(b2x1, b2x2), b1x1), b1x2)),
    tf.square(tf.sub(tf.sub(tf.add(b2y1, b2y2), b1y1), b1y2))), 4);
  const v = tf.mul(4 / Math.PI ** 2, tf.square(tf.sub(tf.atan(tf.div(w2, h2)), tf.atan(tf.div(w1, h1)))));
  const alpha = stopGradient(tf.div(v, tf.add(tf.sub(v, iou), 1 + eps)));
  return tf.sub(iou, tf.add(tf.div(rho2, c2), tf.mul(v, alpha))) as tf.Tensor1D;
}

/** Mean binary cross-entropy on logits (BCEWithLogitsLoss), numerically stable. */
export function bceWithLogits(x: tf.Tensor, t: tf.Tensor): tf.Scalar {
  return tf.mean(tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))))) as tf.Scalar;
}

export interface YoloLoss {
  /** (lbox + lobj + lcls) * batch size: the scalar YOLOv5 trains on. */
  loss: tf.Scalar;
  lbox: tf.Scalar;
  lobj: tf.Scalar;
  lcls: tf.Scalar;
}

/** The loss on raw head outputs p[i] of shape [bs, na, ny, nx, 5 + nc] (before sigmoid). */
export function yoloLoss(p: tf.Tensor[], targets: Target[], cfg: YoloLossConfig): YoloLoss {
  const nl = p.length;
  if (nl !== cfg.anchors.length) throw new Error(`loss: ${nl} head outputs but ${cfg.anchors.length} anchor sets`);
  const anchors = anchorsInGrid(cfg);
  const shapes = p.map((t) => t.shape);
  const built = buildTargets(shapes, targets, anchors, cfg.anchorT ?? 4.0);
  const balance = nl === 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02];
  const hBox = (cfg.box ?? 0.05) * 3 / nl;
  const hCls = (cfg.cls ?? 0.5) * cfg.nc / 80 * 3 / nl;
  const hObj = (cfg.obj ?? 1.0) * (cfg.imgsz / 640) ** 2 * 3 / nl;
  let lbox: tf.Tensor = tf.scalar(0), lobj: tf.Tensor = tf.scalar(0), lcls: tf.Tensor = tf.scalar(0);
  p.forEach((pi, i) => {
    const [bs, na, ny, nx, no] = pi.shape;
    if (no !== cfg.nc + 5) throw new Error(`loss: head ${i} has ${no} values per anchor, expected ${cfg.nc + 5} (nc = ${cfg.nc})`);
    const cells = bs * na * ny * nx;
    const flat = tf.reshape(pi, [cells, no]);
    const t = built[i];
    const n = t.b.length;
    let tobj: tf.Tensor = tf.zeros([cells]);
    if (n) {
      const idx = t.b.map((b, k) => ((b * na + t.a[k]) * ny + t.gj[k]) * nx + t.gi[k]);
      const ps = tf.gather(flat, tf.tensor1d(idx, 'int32'));
      const pxy = tf.sub(tf.mul(tf.sigmoid(tf.slice(ps, [0, 0], [n, 2])), 2), 0.5);
      const pwh = tf.mul(tf.square(tf.mul(tf.sigmoid(tf.slice(ps, [0, 2], [n, 2])), 2)), tf.tensor2d(t.anch));
      const iou = ciou(tf.concat([pxy, pwh], 1) as tf.Tensor2D, tf.tensor2d(t.tbox));
      lbox = tf.add(lbox, tf.mean(tf.sub(1, iou)));
      // tobj[b, a, gj, gi] = iou.detach().clamp(0); where a cell is matched twice the last write wins.
      const last = new Map<number, number>();
      idx.forEach((c, k) => last.set(c, k));
      const keep = [...last.values()].sort((x, y) => x - y);
      const cellsKept = keep.map((k) => idx[k]);
      const scatter = tf.customGrad(((u: tf.Tensor) => ({
        value: tf.scatterND(tf.tensor2d(cellsKept, [cellsKept.length, 1], 'int32'), tf.relu(u), [cells]),
        gradFunc: () => [tf.zerosLike(u)],
      })) as unknown as Parameters<typeof tf.customGrad>[0]);
      tobj = scatter(tf.gather(stopGradient(iou), tf.tensor1d(keep, 'int32')));
      if (cfg.nc > 1) {
        const tc = tf.cast(tf.oneHot(tf.tensor1d(t.tcls, 'int32'), cfg.nc), 'float32');
        lcls = tf.add(lcls, bceWithLogits(tf.slice(ps, [0, 5], [n, cfg.nc]), tc));
      }
    }
    const pobj = tf.reshape(tf.slice(flat, [0, 4], [cells, 1]), [cells]);
    lobj = tf.add(lobj, tf.mul(bceWithLogits(pobj, tobj), balance[i]));
  });
  const bs = p[0].shape[0];
  const lb = tf.mul(lbox, hBox) as tf.Scalar, lo = tf.mul(lobj, hObj) as tf.Scalar, lc = tf.mul(lcls, hCls) as tf.Scalar;
  return { loss: tf.mul(tf.add(tf.add(lb, lo), lc), bs) as tf.Scalar, lbox: lb, lobj: lo, lcls: lc };
}
