// ultralytics' v8DetectionLoss (YOLOv8/YOLO11 anchor-free heads) on NCHW heads
// [bs, 4*regMax + nc, ny, nx], value and analytic gradient. Boxes decode as the expectation of a
// softmax over regMax bins per side (l, t, r, b) around anchor points at cell centres; the
// TaskAlignedAssigner (topk 10, alpha 0.5, beta 6) picks, on detached predictions, per target the
// 10 anchors inside it with the largest σ(cls)^0.5 · CIoU^6, an anchor claimed twice going to the
// target it overlaps most; class targets are that metric normalised per target to its best CIoU.
// Loss: BCE over every class logit / Σ targets, CIoU and DFL of positives weighted by their target
// score / Σ targets; gains box 7.5, cls 0.5, dfl 1.5; × bs. Checked against the original code in
// test/qc/loss-yolov8.test.ts.
import { QatLensError } from '../../errors';
import { bceLogit, bceZeros, sigmoid } from './bce';
import { ciou } from './ciou';
import { torchTopk } from './topk';
import type { AnchorFreeLossConfig, DetectionLoss, HeadTensor, LossValue, Target } from './types';

const f = Math.fround;
const EPS = 1e-7;

export function yolov8Loss(cfg: AnchorFreeLossConfig): DetectionLoss {
  return { family: 'yolov8', compute: (heads, targets) => v8LossAssigned(heads, taskAlignedAssign(heads, targets, cfg), cfg) };
}

/** The assigner's result: per image its targets (pixels, xyxy), each anchor's target (-1: none) and score. */
export interface V8Assignment {
  images: { gts: { cls: number; box: number[] }[]; owner: Int32Array; score: Float64Array }[];
  /** max(Σ target scores over the batch, 1): every term's normaliser. */
  tss: number;
}

/** Anchor points of all scales (scale-major, then row-major) and where each reads its head. */
class Grid {
  readonly R: number;
  readonly nc: number;
  readonly no: number;
  readonly bs: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly stride: Float64Array;
  readonly scale: Int32Array;
  readonly cell: Int32Array;
  readonly imgH: number;
  readonly imgW: number;

  constructor(
    readonly heads: HeadTensor[],
    cfg: AnchorFreeLossConfig,
  ) {
    const R = (this.R = cfg.regMax ?? 16),
      nc = (this.nc = cfg.nc),
      no = (this.no = 4 * R + nc);
    if (heads.length !== cfg.strides.length) throw new QatLensError(`loss: ${heads.length} head outputs but ${cfg.strides.length} strides`);
    const bs = (this.bs = heads[0].shape[0]);
    heads.forEach((h, i) => {
      const [b, c, ny, nx] = h.shape;
      if (h.shape.length !== 4 || b !== bs || c !== no || h.data.length !== b * c * ny * nx) {
        throw new QatLensError(`loss: head ${i} has shape [${h.shape}], expected [${bs}, ${no}, ny, nx] (4 x ${R} box bins + ${nc} classes)`);
      }
    });
    const n = heads.reduce((s, h) => s + h.shape[2] * h.shape[3], 0);
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
    this.stride = new Float64Array(n);
    this.scale = new Int32Array(n);
    this.cell = new Int32Array(n);
    let k = 0;
    heads.forEach((h, i) => {
      const [, , ny, nx] = h.shape;
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++, k++) {
          this.x[k] = x + 0.5;
          this.y[k] = y + 0.5;
          this.stride[k] = cfg.strides[i];
          this.scale[k] = i;
          this.cell[k] = y * nx + x;
        }
    });
    this.imgH = heads[0].shape[2] * cfg.strides[0];
    this.imgW = heads[0].shape[3] * cfg.strides[0];
  }

  get anchors(): number {
    return this.x.length;
  }

  offset(b: number, k: number, ch: number): number {
    const [, , ny, nx] = this.heads[this.scale[k]].shape;
    return (b * this.no + ch) * ny * nx + this.cell[k];
  }

  value(b: number, k: number, ch: number): number {
    return this.heads[this.scale[k]].data[this.offset(b, k, ch)];
  }

  /** Softmax of side s's bins into p; returns [expected distance, log-sum-exp]. regMax 1: the raw distance. */
  side(b: number, k: number, s: number, p: Float64Array): [number, number] {
    const R = this.R;
    if (R === 1) {
      p[0] = 1;
      return [this.value(b, k, s), 0];
    }
    let m = -Infinity;
    for (let j = 0; j < R; j++) m = Math.max(m, (p[j] = this.value(b, k, s * R + j)));
    let z = 0;
    for (let j = 0; j < R; j++) z += p[j] = Math.exp(p[j] - m);
    let d = 0;
    for (let j = 0; j < R; j++) d += (p[j] /= z) * j;
    return [d, m + Math.log(z)];
  }

  /** Decoded box (grid units) [x1, y1, x2, y2] of anchor k. */
  box(b: number, k: number, p: Float64Array): number[] {
    const d = [0, 1, 2, 3].map((s) => this.side(b, k, s, p)[0]);
    return [this.x[k] - d[0], this.y[k] - d[1], this.x[k] + d[2], this.y[k] + d[3]];
  }
}

/** ciou's [x1, x2, y1, y2, w, h] of an xyxy box as ultralytics' bbox_iou(xywh=False) sees it. */
function xyxyBox(x1: number, y1: number, x2: number, y2: number, out: Float64Array): Float64Array {
  out[0] = x1;
  out[1] = x2;
  out[2] = y1;
  out[3] = y2;
  out[4] = x2 - x1;
  out[5] = y2 - y1 + EPS;
  return out;
}

/** TaskAlignedAssigner(topk, alpha 0.5, beta 6) on the detached predictions (ultralytics tal.py). */
export function taskAlignedAssign(heads: HeadTensor[], targets: Target[], cfg: AnchorFreeLossConfig): V8Assignment {
  const g = new Grid(heads, cfg),
    A = g.anchors,
    topk = Math.min(cfg.topk ?? 10, A);
  targets.forEach((t, k) => {
    if (!(Number.isInteger(t[0]) && t[0] >= 0 && t[0] < g.bs) || !(Number.isInteger(t[1]) && t[1] >= 0 && t[1] < g.nc)) {
      throw new QatLensError(`loss: target ${k} [${t}] names image ${t[0]} of a batch of ${g.bs} or class ${t[1]} of ${g.nc}`);
    }
  });
  const p = new Float64Array(g.R),
    gb = new Float64Array(6),
    pb = new Float64Array(6);
  let tss = 0;
  const images = [];
  for (let b = 0; b < g.bs; b++) {
    // preprocess: xywh * [w, h, w, h] -> xyxy in pixels (float32 like torch); mask_gt drops boxes summing to <= 0
    const gts = targets
      .filter((t) => t[0] === b)
      .map((t) => {
        const x = f(t[2] * g.imgW),
          y = f(t[3] * g.imgH),
          hw = f(f(t[4] * g.imgW) / 2),
          hh = f(f(t[5] * g.imgH) / 2);
        return { cls: t[1], box: [f(x - hw), f(y - hh), f(x + hw), f(y + hh)] };
      })
      .filter((t) => f(f(f(t.box[0] + t.box[1]) + t.box[2]) + t.box[3]) > 0);
    const G = gts.length;
    const boxes = new Map<number, number[]>(); // decoded only where some target needs them
    const overlaps = gts.map(() => new Float64Array(A)),
      align = gts.map(() => new Float64Array(A));
    const pos = gts.map(() => new Uint8Array(A));
    gts.forEach((t, gi) => {
      const [x1, y1, x2, y2] = t.box;
      xyxyBox(x1, y1, x2, y2, gb);
      const inside: number[] = [];
      for (let k = 0; k < A; k++) {
        const st = g.stride[k],
          ax = g.x[k] * st,
          ay = g.y[k] * st;
        if (!(Math.min(ax - x1, ay - y1, x2 - ax, y2 - ay) > 1e-9)) continue; // select_candidates_in_gts
        inside.push(k);
        let q = boxes.get(k);
        if (!q) boxes.set(k, (q = g.box(b, k, p)));
        const ov = Math.max(ciou(gb, xyxyBox(q[0] * st, q[1] * st, q[2] * st, q[3] * st, pb)), 0);
        overlaps[gi][k] = ov;
        align[gi][k] = Math.sqrt(sigmoid(g.value(b, k, 4 * g.R + t.cls))) * ov ** 6;
      }
      // the top-k over every anchor (torch's order among equal metrics), kept where inside the target
      const top = new Uint8Array(A);
      for (const k of torchTopk(align[gi], topk, true)) top[k] = 1;
      for (const k of inside) pos[gi][k] = top[k];
    });
    // select_highest_overlaps: an anchor claimed by several targets goes to the one it overlaps most
    const owner = new Int32Array(A).fill(-1);
    for (let k = 0; k < A; k++) {
      let claims = 0;
      for (let gi = 0; gi < G; gi++)
        if (pos[gi][k]) {
          claims++;
          if (owner[k] < 0) owner[k] = gi;
        }
      if (claims > 1) {
        let best = 0;
        for (let gi = 1; gi < G; gi++) if (overlaps[gi][k] > overlaps[best][k]) best = gi;
        for (let gi = 0; gi < G; gi++) pos[gi][k] = gi === best ? 1 : 0;
        owner[k] = best;
      }
    }
    // score = align * (the target's best overlap) / (the target's best align + 1e-9)
    const score = new Float64Array(A);
    gts.forEach((_, gi) => {
      let maxAlign = 0,
        maxOv = 0;
      for (let k = 0; k < A; k++)
        if (pos[gi][k]) {
          maxAlign = Math.max(maxAlign, align[gi][k]);
          maxOv = Math.max(maxOv, overlaps[gi][k]);
        }
      for (let k = 0; k < A; k++)
        if (pos[gi][k]) {
          score[k] = (align[gi][k] * maxOv) / (maxAlign + 1e-9);
          tss += score[k];
        }
    });
    images.push({ gts, owner, score });
  }
  return { images, tss: Math.max(tss, 1) };
}

/** The v8 loss and its gradient for a given assignment (held fixed, as the original detaches it). */
export function v8LossAssigned(heads: HeadTensor[], asg: V8Assignment, cfg: AnchorFreeLossConfig): LossValue {
  const g = new Grid(heads, cfg),
    A = g.anchors,
    R = g.R,
    nc = g.nc,
    bs = g.bs,
    tss = asg.tss;
  const gBox = cfg.box ?? 7.5,
    gCls = cfg.cls ?? 0.5,
    gDfl = cfg.dfl ?? 1.5;
  const grads = heads.map((h) => new Float32Array(h.data.length));
  const addGrad = (b: number, k: number, ch: number, v: number) => {
    grads[g.scale[k]][g.offset(b, k, ch)] += v;
  };
  let lcls = 0,
    lbox = 0,
    ldfl = 0;
  const cCls = (gCls * bs) / tss,
    dc = new Float64Array(6),
    pb = new Float64Array(6),
    tb = new Float64Array(6);
  const probs = [0, 1, 2, 3].map(() => new Float64Array(R));
  // Classes: BCE of every logit against 0, plane by plane; positives are corrected below.
  heads.forEach((h, i) => {
    const plane = h.shape[2] * h.shape[3];
    for (let b = 0; b < bs; b++) lcls += bceZeros(h.data, grads[i], (b * g.no + 4 * R) * plane, nc * plane, cCls);
  });
  for (let b = 0; b < bs; b++) {
    const { gts, owner, score } = asg.images[b];
    for (let k = 0; k < A; k++) {
      if (owner[k] < 0) continue;
      // the assigned label's target is the anchor's score
      const oc = g.offset(b, k, 4 * R + gts[owner[k]].cls),
        x = heads[g.scale[k]].data[oc];
      lcls += bceLogit(x, score[k]) - bceLogit(x, 0);
      grads[g.scale[k]][oc] = cCls * (sigmoid(x) - score[k]);
      const w = score[k],
        st = f(g.stride[k]),
        tg = gts[owner[k]].box;
      const t4 = [f(tg[0] / st), f(tg[1] / st), f(tg[2] / st), f(tg[3] / st)]; // target_bboxes /= stride
      const side = probs.map((p, s) => g.side(b, k, s, p)); // [expected distance, log-sum-exp]
      const [d0, d1, d2, d3] = side.map((v) => v[0]);
      const iou = ciou(xyxyBox(g.x[k] - d0, g.y[k] - d1, g.x[k] + d2, g.y[k] + d3, pb), xyxyBox(t4[0], t4[1], t4[2], t4[3], tb), dc, EPS);
      lbox += (1 - iou) * w;
      // dCIoU/d[x1, x2, y1, y2, w = x2 - x1, h = y2 - y1 + eps] -> the distances (l, t, r, b)
      const gI = (-w * gBox * bs) / tss;
      const dd = [dc[4] - dc[0], dc[5] - dc[2], dc[1] + dc[4], dc[3] + dc[5]].map((v) => v * gI);
      if (R === 1) {
        // no DFL: the head's values are the distances
        for (let s = 0; s < 4; s++) addGrad(b, k, s, dd[s]);
        continue;
      }
      // DFL: bbox2dist clamped to [0, regMax - 1 - 0.01], split between the two nearest bins
      const ltrb = [f(g.x[k] - t4[0]), f(g.y[k] - t4[1]), f(t4[2] - g.x[k]), f(t4[3] - g.y[k])];
      const cD = ((w / 4) * gDfl * bs) / tss;
      for (let s = 0; s < 4; s++) {
        const tgt = Math.min(Math.max(ltrb[s], 0), f(R - 1 - 0.01));
        const tl = Math.trunc(tgt),
          tr = tl + 1,
          wl = f(tr - tgt),
          wr = f(1 - wl);
        const [ds, lse] = side[s],
          pr = probs[s];
        ldfl += (((lse - g.value(b, k, s * R + tl)) * wl + (lse - g.value(b, k, s * R + tr)) * wr) / 4) * w;
        for (let j = 0; j < R; j++) {
          // expectation Σ p_j j: d/dz_j = p_j (j - Σ p j); cross-entropy: p_j - wl [j = tl] - wr [j = tr]
          const gD = pr[j] - (j === tl ? wl : 0) - (j === tr ? wr : 0);
          addGrad(b, k, s * R + j, dd[s] * pr[j] * (j - ds) + cD * gD);
        }
      }
    }
  }
  const parts = { lbox: (lbox / tss) * gBox, lcls: (lcls / tss) * gCls, ldfl: (ldfl / tss) * gDfl };
  return { loss: (parts.lbox + parts.lcls + parts.ldfl) * bs, parts, grads };
}
