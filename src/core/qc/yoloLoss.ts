// YOLOv5's detection loss (ultralytics/yolov5 utils/loss.py ComputeLoss) in TensorFlow.js:
// build_targets' anchor matching (ratio < anchor_t, the two nearest neighbour cells at g = 0.5),
// CIoU box loss, BCE objectness against the detached IoU (gr = 1.0) weighted by the per-scale
// balance, BCE class loss, and train.py's gain scaling. Checked against a PyTorch copy of the same
// code (tools/fixtures/qc/yolo_loss_ref.py) in test/qc-loss.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './tfOps';

export interface YoloLossConfig {
  /** Per scale, anchors in pixels as [w0, h0, w1, h1, ...] (YOLOv5's yaml order). */
  anchors: number[][];
  /** Per scale stride in pixels (8, 16, 32). */
  strides: number[];
  nc: number;
  /** Training image size (the obj gain scales with (imgsz / 640)^2). */
  imgsz: number;
  box?: number;
  obj?: number;
  cls?: number;
  anchorT?: number;
}

/** One labelled box: image index in the batch, class, and centre/size normalised to [0, 1]. */
export type Target = [image: number, cls: number, x: number, y: number, w: number, h: number];

export interface ScaleTargets {
  b: number[]; a: number[]; gj: number[]; gi: number[];
  /** (gx - gi, gy - gj, gw, gh) in grid units, one row per match. */
  tbox: number[][];
  /** anchor (w, h) in grid units per match. */
  anch: number[][];
  tcls: number[];
}

const f = Math.fround;

/** YOLOv5's build_targets for one batch; `shapes` are the head shapes [bs, na, ny, nx, no]. */
export function buildTargets(shapes: number[][], targets: Target[], anchorsGrid: number[][][], anchorT = 4.0): ScaleTargets[] {
  const g = 0.5;
  const off = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]].map(([x, y]) => [x * g, y * g]);
  return shapes.map((shape, i) => {
    const [, na, ny, nx] = shape;
    const anchors = anchorsGrid[i];
    // Rows in torch's order: anchor-major, then target (targets.repeat(na) + mask).
    const rows: { t: Target; a: number; gx: number; gy: number; gw: number; gh: number }[] = [];
    for (let a = 0; a < na; a++) for (const t of targets) {
      const gx = f(t[2] * nx), gy = f(t[3] * ny), gw = f(t[4] * nx), gh = f(t[5] * ny);
      const rw = f(gw / anchors[a][0]), rh = f(gh / anchors[a][1]);
      const worst = Math.max(rw, f(1 / rw), rh, f(1 / rh));
      if (worst < anchorT) rows.push({ t, a, gx, gy, gw, gh });
    }
    const out: ScaleTargets = { b: [], a: [], gj: [], gi: [], tbox: [], anch: [], tcls: [] };
    for (let o = 0; o < 5; o++) for (const r of rows) {
      const gxi = f(nx - r.gx), gyi = f(ny - r.gy);
      const mod = (v: number) => f(v - Math.floor(v));
      const take = [true,
        mod(r.gx) < g && r.gx > 1, mod(r.gy) < g && r.gy > 1,
        mod(gxi) < g && gxi > 1, mod(gyi) < g && gyi > 1][o];
      if (!take) continue;
      // torch clamps gi/gj in place (views of gij), so tbox uses the clamped cell too.
      const gi = Math.min(Math.max(Math.trunc(f(r.gx - off[o][0])), 0), nx - 1);
      const gj = Math.min(Math.max(Math.trunc(f(r.gy - off[o][1])), 0), ny - 1);
      out.b.push(r.t[0]); out.a.push(r.a); out.tcls.push(r.t[1]);
      out.gj.push(gj);
      out.gi.push(gi);
      out.tbox.push([f(r.gx - gi), f(r.gy - gj), r.gw, r.gh]);
      out.anch.push(anchors[r.a]);
    }
    return out;
  });
}

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

/** Anchors per scale in grid units (pixels / stride), float32 like YOLOv5's buffer. */
export function anchorsInGrid(cfg: YoloLossConfig): number[][][] {
  return cfg.anchors.map((flat, i) => {
    const out: number[][] = [];
    for (let k = 0; k < flat.length; k += 2) out.push([f(flat[k] / cfg.strides[i]), f(flat[k + 1] / cfg.strides[i])]);
    return out;
  });
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
