// The loss YOLOv5's ComputeLoss and YOLOv7's ComputeLossOTA share once targets are matched to
// cells, on NCHW heads [bs, na*(5+nc), ny, nx], value and analytic gradient: CIoU box loss (alpha
// detached), BCE objectness against the detached CIoU clamped at 0 (last write wins where a cell is
// matched twice), per-scale balance, BCE classes when nc > 1, loss = (lbox + lobj + lcls) * bs.
import { QatLensError } from '../../errors';
import type { ScaleTargets } from './anchorMatch';
import { bceLogit, bceZeros, sigmoid } from './bce';
import { ciou } from './ciou';
import type { HeadTensor, LossValue, Target, YoloLossConfig } from './types';

/**
 * How the box enters bbox_iou: YOLOv5's metrics.py takes w, h as given; YOLOv7's general.py takes
 * them from the corners, adds eps to h, and eps again inside the aspect term.
 */
export type CiouForm = 'v5' | 'v7';

const EPS = 1e-7;

/** Head geometry checked against the config: [bs, na, ny, nx, no] per scale. */
export function anchorHeadShapes(heads: HeadTensor[], targets: Target[], anchors: number[][][], nc: number): number[][] {
  if (heads.length !== anchors.length) throw new QatLensError(`loss: ${heads.length} head outputs but ${anchors.length} anchor sets`);
  const bs = heads[0].shape[0],
    no = nc + 5;
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

/** Writes ciou's [x1, x2, y1, y2, w, h] of a centre/size box in the given form. */
export function ciouBox(x: number, y: number, w: number, h: number, form: CiouForm, out: Float64Array): Float64Array {
  out[0] = x - w / 2;
  out[1] = x + w / 2;
  out[2] = y - h / 2;
  out[3] = y + h / 2;
  if (form === 'v5') {
    out[4] = w;
    out[5] = h;
  } else {
    out[4] = out[1] - out[0];
    out[5] = out[3] - out[2] + EPS;
  }
  return out;
}

const add = (m: Map<number, number>, k: number, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/** The loss of matched targets `built` (one entry per scale) on the heads. */
export function anchorLoss(heads: HeadTensor[], shapes: number[][], built: ScaleTargets[], cfg: YoloLossConfig, form: CiouForm): LossValue {
  const nl = heads.length,
    nc = cfg.nc,
    no = nc + 5;
  const bs = shapes[0][0];
  const balance = nl === 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02];
  const hBox = ((cfg.box ?? 0.05) * 3) / nl;
  const hCls = ((((cfg.cls ?? 0.5) * nc) / 80) * 3) / nl;
  const hObj = ((cfg.obj ?? 1.0) * (cfg.imgsz / 640) ** 2 * 3) / nl;
  const atanEps = form === 'v7' ? EPS : 0;
  let lbox = 0,
    lobj = 0,
    lcls = 0;
  const box = new Float64Array(6),
    tb = new Float64Array(6),
    dc = new Float64Array(6),
    s = new Float64Array(4);
  const grads = heads.map((h, i) => {
    const [, na, ny, nx] = shapes[i];
    const d = h.data,
      plane = ny * nx;
    const t = built[i],
      n = t.b.length;
    const grad = new Float32Array(d.length);
    const acc = new Map<number, number>(); // float64 sums for the matched cells' box/class logits
    const tobj = new Map<number, number>(); // obj-logit offset -> target; a later match overwrites
    if (n) {
      let sbox = 0,
        scls = 0;
      const gBox = (-hBox * bs) / n,
        gCls = (hCls * bs) / (n * nc);
      for (let k = 0; k < n; k++) {
        const o = (t.b[k] * na + t.a[k]) * no * plane + t.gj[k] * nx + t.gi[k];
        const [aw, ah] = t.anch[k],
          [tx, ty, tw, th] = t.tbox[k];
        for (let c = 0; c < 4; c++) s[c] = sigmoid(d[o + c * plane]);
        // pxy = 2σ - 0.5, pwh = (2σ)² anchor
        ciouBox(s[0] * 2 - 0.5, s[1] * 2 - 0.5, (s[2] * 2) ** 2 * aw, (s[3] * 2) ** 2 * ah, form, box);
        const iou = ciou(box, ciouBox(tx, ty, tw, th, form, tb), dc, EPS, atanEps);
        sbox += 1 - iou;
        // [x1, x2, y1, y2, w, h] -> centre and size (the same chain in both forms) -> logits
        const dxy = [dc[0] + dc[1], dc[2] + dc[3]],
          dwh = [(dc[1] - dc[0]) / 2 + dc[4], (dc[3] - dc[2]) / 2 + dc[5]];
        const anc = [aw, ah];
        for (let c = 0; c < 2; c++) {
          add(acc, o + c * plane, gBox * dxy[c] * 2 * s[c] * (1 - s[c]));
          add(acc, o + (c + 2) * plane, gBox * dwh[c] * 8 * s[c + 2] * anc[c] * s[c + 2] * (1 - s[c + 2]));
        }
        tobj.set(o + 4 * plane, Math.max(iou, 0));
        if (nc > 1) {
          for (let c = 0; c < nc; c++) {
            const oc = o + (5 + c) * plane,
              x = d[oc],
              y = c === t.tcls[k] ? 1 : 0;
            scls += bceLogit(x, y);
            add(acc, oc, gCls * (sigmoid(x) - y));
          }
        }
      }
      lbox += sbox / n;
      if (nc > 1) lcls += scls / (n * nc);
    }
    // Objectness over every cell against 0, then the matched cells corrected to their targets.
    const cells = bs * na * plane,
      gObj = (balance[i] * hObj * bs) / cells;
    let sobj = 0;
    for (let ba = 0; ba < bs * na; ba++) sobj += bceZeros(d, grad, ba * no * plane + 4 * plane, plane, gObj);
    for (const [o, y] of tobj) {
      sobj += bceLogit(d[o], y) - bceLogit(d[o], 0);
      grad[o] = gObj * (sigmoid(d[o]) - y);
    }
    lobj += (sobj / cells) * balance[i];
    for (const [o, v] of acc) grad[o] = v;
    return grad;
  });
  const parts = { lbox: lbox * hBox, lobj: lobj * hObj, lcls: lcls * hCls };
  return { loss: (parts.lbox + parts.lobj + parts.lcls) * bs, parts, grads };
}
