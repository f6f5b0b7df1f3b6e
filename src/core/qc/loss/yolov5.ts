// YOLOv5's ComputeLoss (ultralytics/yolov5 utils/loss.py, hyp.scratch gains as train.py scales them)
// on NCHW heads [bs, na*(5+nc), ny, nx], value and analytic gradient with respect to the heads:
// build_targets matching, CIoU box loss (alpha detached), BCE objectness against the detached CIoU
// clamped at 0 (last write wins where a cell is matched twice), per-scale balance, BCE classes when
// nc > 1, loss = (lbox + lobj + lcls) * bs. Checked against PyTorch autograd in test/qc/.
import { QatLensError } from '../../errors';
import { anchorsInGrid, buildTargets } from './anchorMatch';
import { bceLogit, sigmoid } from './bce';
import { ciou } from './ciou';
import type { DetectionLoss, HeadTensor, LossValue, Target, YoloLossConfig } from './types';

export function yolov5Loss(cfg: YoloLossConfig): DetectionLoss {
  const anchors = anchorsInGrid(cfg);
  return { family: 'yolov5', compute: (heads, targets) => computeYolov5(heads, targets, cfg, anchors) };
}

/** Head geometry checked against the config: [bs, na, ny, nx, no] per scale. */
export function anchorHeadShapes(heads: HeadTensor[], targets: Target[], anchors: number[][][], nc: number): number[][] {
  if (heads.length !== anchors.length) throw new QatLensError(`loss: ${heads.length} head outputs but ${anchors.length} anchor sets`);
  const bs = heads[0].shape[0], no = nc + 5;
  const shapes = heads.map((h, i) => {
    const na = anchors[i].length;
    const [b, c, ny, nx] = h.shape;
    if (h.shape.length !== 4 || b !== bs || c !== na * no || h.data.length !== b * c * ny * nx) {
      throw new QatLensError(`loss: head ${i} has shape [${h.shape}], expected [${bs}, ${na * no}, ny, nx] (${na} anchors x (5 + ${nc} classes))`);
    }
    return [bs, na, ny, nx, no];
  });
  targets.forEach((t, k) => {
    if (!(Number.isInteger(t[0]) && t[0] >= 0 && t[0] < bs) || !(Number.isInteger(t[1]) && t[1] >= 0 && t[1] < nc)) {
      throw new QatLensError(`loss: target ${k} [${t}] names image ${t[0]} of a batch of ${bs} or class ${t[1]} of ${nc}`);
    }
  });
  return shapes;
}

/** The pred box (2σ - 0.5, (2σ)² anchor) of one cell, as ciou's [x1, x2, y1, y2, w, h], and its sigmoids. */
function predBox(d: Float32Array, o: number, plane: number, aw: number, ah: number, box: Float64Array, s: Float64Array): void {
  for (let k = 0; k < 4; k++) s[k] = sigmoid(d[o + k * plane]);
  const x = s[0] * 2 - 0.5, y = s[1] * 2 - 0.5, w = (s[2] * 2) ** 2 * aw, h = (s[3] * 2) ** 2 * ah;
  box[0] = x - w / 2; box[1] = x + w / 2; box[2] = y - h / 2; box[3] = y + h / 2; box[4] = w; box[5] = h;
}

/** Chains dCIoU/d[x1, x2, y1, y2, w, h] (times g) back to the four raw logits, adding into acc. */
function chainBox(g: number, dc: Float64Array, s: Float64Array, aw: number, ah: number, o: number, plane: number, acc: Map<number, number>): void {
  const dxy = [dc[0] + dc[1], dc[2] + dc[3]];
  const dwh = [(dc[1] - dc[0]) / 2 + dc[4], (dc[3] - dc[2]) / 2 + dc[5]];
  const anc = [aw, ah];
  for (let k = 0; k < 2; k++) {
    const ds = s[k] * (1 - s[k]);
    add(acc, o + k * plane, g * dxy[k] * 2 * ds);
    add(acc, o + (k + 2) * plane, g * dwh[k] * 8 * s[k + 2] * anc[k] * (s[k + 2] * (1 - s[k + 2])));
  }
}

const add = (m: Map<number, number>, k: number, v: number) => m.set(k, (m.get(k) ?? 0) + v);

function computeYolov5(heads: HeadTensor[], targets: Target[], cfg: YoloLossConfig, anchors: number[][][]): LossValue {
  const nl = heads.length, nc = cfg.nc, no = nc + 5;
  const shapes = anchorHeadShapes(heads, targets, anchors, nc);
  const built = buildTargets(shapes, targets, anchors, cfg.anchorT ?? 4.0);
  const bs = shapes[0][0];
  const balance = nl === 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02];
  const hBox = (cfg.box ?? 0.05) * 3 / nl;
  const hCls = (cfg.cls ?? 0.5) * nc / 80 * 3 / nl;
  const hObj = (cfg.obj ?? 1.0) * (cfg.imgsz / 640) ** 2 * 3 / nl;
  let lbox = 0, lobj = 0, lcls = 0;
  const box = new Float64Array(6), tb = new Float64Array(6), dc = new Float64Array(6), s = new Float64Array(4);
  const grads = heads.map((h, i) => {
    const [, na, ny, nx] = shapes[i];
    const d = h.data, plane = ny * nx;
    const t = built[i], n = t.b.length;
    const grad = new Float32Array(d.length);
    const acc = new Map<number, number>(); // float64 sums for the matched cells' box/class logits
    const tobj = new Map<number, number>(); // obj-logit offset -> target; a later match overwrites
    const cell = (k: number) => (t.b[k] * na + t.a[k]) * no * plane + t.gj[k] * nx + t.gi[k];
    if (n) {
      let sbox = 0, scls = 0;
      const gBox = -hBox * bs / n, gCls = hCls * bs / (n * nc);
      for (let k = 0; k < n; k++) {
        const o = cell(k), [aw, ah] = t.anch[k], [tx, ty, tw, th] = t.tbox[k];
        predBox(d, o, plane, aw, ah, box, s);
        tb[0] = tx - tw / 2; tb[1] = tx + tw / 2; tb[2] = ty - th / 2; tb[3] = ty + th / 2; tb[4] = tw; tb[5] = th;
        const iou = ciou(box, tb, dc);
        sbox += 1 - iou;
        chainBox(gBox, dc, s, aw, ah, o, plane, acc);
        tobj.set(o + 4 * plane, Math.max(iou, 0));
        if (nc > 1) {
          for (let c = 0; c < nc; c++) {
            const oc = o + (5 + c) * plane, x = d[oc], y = c === t.tcls[k] ? 1 : 0;
            scls += bceLogit(x, y);
            add(acc, oc, gCls * (sigmoid(x) - y));
          }
        }
      }
      lbox += sbox / n;
      if (nc > 1) lcls += scls / (n * nc);
    }
    // Objectness over every cell against 0, then the matched cells corrected to their targets.
    const cells = bs * na * plane, gObj = balance[i] * hObj * bs / cells;
    let sobj = 0;
    for (let ba = 0; ba < bs * na; ba++) {
      const base = ba * no * plane + 4 * plane;
      for (let o = base; o < base + plane; o++) {
        const x = d[o];
        sobj += bceLogit(x, 0);
        grad[o] = gObj * sigmoid(x);
      }
    }
    for (const [o, y] of tobj) {
      sobj += bceLogit(d[o], y) - bceLogit(d[o], 0);
      grad[o] = gObj * (sigmoid(d[o]) - y);
    }
    lobj += sobj / cells * balance[i];
    for (const [o, v] of acc) grad[o] = v;
    return grad;
  });
  const parts = { lbox: lbox * hBox, lobj: lobj * hObj, lcls: lcls * hCls };
  return { loss: (parts.lbox + parts.lobj + parts.lcls) * bs, parts, grads };
}
