// Complete IoU (bbox_iou(..., CIoU=True) of YOLOv5/v7/ultralytics) and its gradient with respect to
// the first box, with alpha detached as the originals compute it under no_grad. Ties in min/max
// split the gradient in half and clamp(0) passes it at 0, as torch's backward does.

/** Box as [x1, x2, y1, y2, w, h]: corners plus the w, h the area and aspect terms use. */
export type CiouBox = ArrayLike<number>;

const K = 4 / Math.PI ** 2;
/** d min(a, b) / da and d max(a, b) / da with torch's tie rule. */
const dMin = (a: number, b: number) => (a < b ? 1 : a === b ? 0.5 : 0);
const dMax = (a: number, b: number) => (a > b ? 1 : a === b ? 0.5 : 0);

/**
 * CIoU of p against t. When `grad` is given, writes dCIoU/d[x1, x2, y1, y2, w, h] of p into it
 * (w and h as independent inputs: callers chain them to their own parametrisation). `atanEps` is
 * added to h inside the aspect term (YOLOv7's general.py adds eps there a second time).
 */
export function ciou(p: CiouBox, t: CiouBox, grad?: Float64Array, eps = 1e-7, atanEps = 0): number {
  const px1 = p[0],
    px2 = p[1],
    py1 = p[2],
    py2 = p[3],
    pw = p[4],
    ph = p[5];
  const tx1 = t[0],
    tx2 = t[1],
    ty1 = t[2],
    ty2 = t[3],
    tw = t[4],
    th = t[5];
  const iwr = Math.min(px2, tx2) - Math.max(px1, tx1),
    ihr = Math.min(py2, ty2) - Math.max(py1, ty1);
  const iw = Math.max(iwr, 0),
    ih = Math.max(ihr, 0);
  const inter = iw * ih;
  const union = pw * ph + tw * th - inter + eps;
  const iou = inter / union;
  const cw = Math.max(px2, tx2) - Math.min(px1, tx1),
    ch = Math.max(py2, ty2) - Math.min(py1, ty1);
  const c2 = cw * cw + ch * ch + eps;
  const dx = tx1 + tx2 - px1 - px2,
    dy = ty1 + ty2 - py1 - py2;
  const rho2 = (dx * dx + dy * dy) / 4;
  const pha = ph + atanEps;
  const da = Math.atan(tw / (th + atanEps)) - Math.atan(pw / pha);
  const v = K * da * da;
  const alpha = v / (v - iou + (1 + eps));
  const value = iou - (rho2 / c2 + v * alpha);
  if (grad) {
    const gInter = 1 / union + inter / (union * union); // union holds -inter
    const gUnion = -inter / (union * union);
    const gIw = iwr >= 0 ? gInter * ih : 0,
      gIh = ihr >= 0 ? gInter * iw : 0;
    const gRho = -1 / c2,
      gC2 = rho2 / (c2 * c2);
    const gCw = gC2 * 2 * cw,
      gCh = gC2 * 2 * ch;
    grad[0] = -gIw * dMax(px1, tx1) - gCw * dMin(px1, tx1) - (gRho * dx) / 2;
    grad[1] = gIw * dMin(px2, tx2) + gCw * dMax(px2, tx2) - (gRho * dx) / 2;
    grad[2] = -gIh * dMax(py1, ty1) - gCh * dMin(py1, ty1) - (gRho * dy) / 2;
    grad[3] = gIh * dMin(py2, ty2) + gCh * dMax(py2, ty2) - (gRho * dy) / 2;
    // v = K (atan(tw/th) - atan(pw/ph))^2; d atan(pw/ph) = (ph dpw - pw dph) / (pw^2 + ph^2).
    const gAt = (alpha * 2 * K * da) / (pw * pw + pha * pha); // -alpha * dv/d(atan(pw/ph)) / (pw^2+ph^2)
    grad[4] = gUnion * ph + gAt * pha;
    grad[5] = gUnion * pw - gAt * pw;
  }
  return value;
}
