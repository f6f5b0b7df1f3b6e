"""YOLOv5's detection loss (after ultralytics/yolov5 utils/loss.py ComputeLoss), written plainly so it
can be ported and tested against: CIoU box loss, BCE objectness (target = detached IoU, gr = 1.0,
per-level balance [4.0, 1.0, 0.4]), BCE classes, anchor matching with anchor_t = 4.0 and the two
neighbouring cells (offset g = 0.5) besides the centre cell.

Predictions p: list of nl tensors [bs, na, ny, nx, 5 + nc] (raw, before sigmoid), as Detect returns
in training mode. Targets: [nt, 6] rows (image index in batch, class, cx, cy, w, h), normalised 0..1.
"""
import math

import torch
import torch.nn as nn


def scaled_hyp(nc, imgsz, nl=3, box=0.05, obj=1.0, cls=0.5, anchor_t=4.0):
    """YOLOv5 train.py scales the loss gains by layers, classes and image size."""
    return {'box': box * 3 / nl, 'cls': cls * nc / 80 * 3 / nl, 'obj': obj * (imgsz / 640) ** 2 * 3 / nl,
            'anchor_t': anchor_t, 'cls_pw': 1.0, 'obj_pw': 1.0, 'label_smoothing': 0.0}


def bbox_ciou(box1, box2, eps=1e-7):
    """CIoU of boxes given as (cx, cy, w, h), elementwise over the leading dimension. Returns [n, 1]."""
    (x1, y1, w1, h1), (x2, y2, w2, h2) = box1.chunk(4, -1), box2.chunk(4, -1)
    b1_x1, b1_x2, b1_y1, b1_y2 = x1 - w1 / 2, x1 + w1 / 2, y1 - h1 / 2, y1 + h1 / 2
    b2_x1, b2_x2, b2_y1, b2_y2 = x2 - w2 / 2, x2 + w2 / 2, y2 - h2 / 2, y2 + h2 / 2
    inter = (torch.min(b1_x2, b2_x2) - torch.max(b1_x1, b2_x1)).clamp(0) * \
            (torch.min(b1_y2, b2_y2) - torch.max(b1_y1, b2_y1)).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cw = torch.max(b1_x2, b2_x2) - torch.min(b1_x1, b2_x1)  # enclosing box
    ch = torch.max(b1_y2, b2_y2) - torch.min(b1_y1, b2_y1)
    c2 = cw ** 2 + ch ** 2 + eps
    rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2) ** 2 + (b2_y1 + b2_y2 - b1_y1 - b1_y2) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


class ComputeLoss:
    def __init__(self, na, nl, nc, anchors, hyp):
        """anchors: [nl, na, 2] in grid units of each level (Detect.anchors); hyp: scaled_hyp(...)."""
        self.na, self.nl, self.nc = na, nl, nc
        self.anchors = anchors
        self.hyp = hyp
        self.balance = {3: [4.0, 1.0, 0.4]}.get(nl, [4.0, 1.0, 0.25, 0.06, 0.02])
        self.gr = 1.0
        self.cp, self.cn = 1.0 - 0.5 * hyp['label_smoothing'], 0.5 * hyp['label_smoothing']
        dev = anchors.device
        self.BCEcls = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([hyp['cls_pw']], device=dev))
        self.BCEobj = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([hyp['obj_pw']], device=dev))

    @classmethod
    def for_model(cls, model, imgsz):
        d = model.model[-1]
        return cls(d.na, d.nl, d.nc, d.anchors, scaled_hyp(d.nc, imgsz, d.nl))

    def __call__(self, p, targets):
        dev = targets.device
        lcls = torch.zeros(1, device=dev)
        lbox = torch.zeros(1, device=dev)
        lobj = torch.zeros(1, device=dev)
        tcls, tbox, indices, anchors = self.build_targets(p, targets)
        for i, pi in enumerate(p):
            b, a, gj, gi = indices[i]
            tobj = torch.zeros(pi.shape[:4], dtype=pi.dtype, device=dev)
            n = b.shape[0]
            if n:
                pxy, pwh, _, pcls = pi[b, a, gj, gi].split((2, 2, 1, self.nc), 1)
                pxy = pxy.sigmoid() * 2 - 0.5
                pwh = (pwh.sigmoid() * 2) ** 2 * anchors[i]
                iou = bbox_ciou(torch.cat((pxy, pwh), 1), tbox[i]).squeeze(-1)
                lbox += (1.0 - iou).mean()
                iou = iou.detach().clamp(0).type(tobj.dtype)
                tobj[b, a, gj, gi] = (1.0 - self.gr) + self.gr * iou
                if self.nc > 1:
                    t = torch.full_like(pcls, self.cn)
                    t[range(n), tcls[i]] = self.cp
                    lcls += self.BCEcls(pcls, t)
            lobj += self.BCEobj(pi[..., 4], tobj) * self.balance[i]
        lbox *= self.hyp['box']
        lobj *= self.hyp['obj']
        lcls *= self.hyp['cls']
        bs = p[0].shape[0]
        return (lbox + lobj + lcls) * bs, torch.cat((lbox, lobj, lcls)).detach()

    def build_targets(self, p, targets):
        na, nt = self.na, targets.shape[0]
        dev = targets.device
        tcls, tbox, indices, anch = [], [], [], []
        gain = torch.ones(7, device=dev)
        ai = torch.arange(na, device=dev).float().view(na, 1).repeat(1, nt)
        targets = torch.cat((targets.repeat(na, 1, 1), ai[..., None]), 2)  # [na, nt, 7]: ..., anchor index
        g = 0.5
        off = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], device=dev).float() * g
        for i in range(self.nl):
            anchors, shape = self.anchors[i], p[i].shape
            gain[2:6] = torch.tensor(shape, device=dev)[[3, 2, 3, 2]].float()
            t = targets * gain  # to grid units
            if nt:
                r = t[..., 4:6] / anchors[:, None]
                j = torch.max(r, 1 / r).max(2)[0] < self.hyp['anchor_t']
                t = t[j]
                gxy = t[:, 2:4]
                gxi = gain[[2, 3]] - gxy
                j, k = ((gxy % 1 < g) & (gxy > 1)).T
                l, m = ((gxi % 1 < g) & (gxi > 1)).T
                j = torch.stack((torch.ones_like(j), j, k, l, m))
                t = t.repeat((5, 1, 1))[j]
                offsets = (torch.zeros_like(gxy)[None] + off[:, None])[j]
            else:
                t = targets[0]
                offsets = 0
            bc, gxy, gwh, a = t.split((2, 2, 2, 1), 1)
            a, (b, c) = a.long().view(-1), bc.long().T
            gij = (gxy - offsets).long()
            gi, gj = gij.T
            gj = gj.clamp(0, shape[2] - 1)
            gi = gi.clamp(0, shape[3] - 1)
            indices.append((b, a, gj, gi))
            tbox.append(torch.cat((gxy - torch.stack((gi, gj), 1), gwh), 1))
            anch.append(anchors[a])
            tcls.append(c)
        return tcls, tbox, indices, anch
