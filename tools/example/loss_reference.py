#!/usr/bin/python3
"""Writes tools/example/loss_reference.json: fixed inputs and outputs of yolo_loss.ComputeLoss (value, and
d loss / d p by autograd), for ports of the loss (e.g. the TypeScript QC loss) to test against. Small grids
(a 64x64 input: 8x8, 4x4, 2x2), the shapes model's anchors and gains (nc 5, imgsz 320), seeded random raw
predictions, targets that exercise the anchor ratio filter, the neighbour-cell offsets and the grid border.

  /usr/bin/python3 tools/example/loss_reference.py
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from models.yolo import YOLOV5_SHAPES_YAML  # noqa: E402
from yolo_loss import ComputeLoss, scaled_hyp  # noqa: E402


def main():
    g = torch.Generator().manual_seed(7)
    strides = [8, 16, 32]
    anchors_px = torch.tensor(YOLOV5_SHAPES_YAML['anchors'], dtype=torch.float32).view(3, 3, 2)
    anchors = anchors_px / torch.tensor(strides, dtype=torch.float32).view(3, 1, 1)  # grid units, as Detect
    nc, bs, img = 5, 2, 64
    p = [(torch.randn(bs, 3, img // s, img // s, 5 + nc, generator=g) * 1.5).requires_grad_() for s in strides]
    # (image, class, cx, cy, w, h) normalised to the 64x64 input
    targets = torch.tensor([[0, 0, 0.50, 0.50, 0.20, 0.20],
                            [0, 3, 0.10, 0.90, 0.08, 0.12],
                            [0, 4, 0.77, 0.31, 0.60, 0.45],
                            [1, 1, 0.33, 0.66, 0.05, 0.30],
                            [1, 2, 0.99, 0.02, 0.15, 0.10],
                            [1, 2, 0.55, 0.45, 0.95, 0.90]], dtype=torch.float32)
    hyp = scaled_hyp(nc, 320)
    loss_fn = ComputeLoss(3, 3, nc, anchors, hyp)
    loss, items = loss_fn(p, targets)
    grads = torch.autograd.grad(loss, p)
    tcls, tbox, indices, anch = loss_fn.build_targets(p, targets)
    ref = {
        'note': 'yolo_loss.ComputeLoss reference; p[i] has shape [bs, na, ny, nx, 5+nc] (raw logits), flattened '
                'row-major; loss = (lbox + lobj + lcls) * bs; items = [lbox, lobj, lcls] after gains; grad = d loss / d p '
                '(torch autograd), laid out as p',
        'nc': nc, 'na': 3, 'nl': 3, 'bs': bs, 'imgsz_for_gains': 320, 'input_size': img, 'strides': strides,
        'anchors_grid_units': anchors.tolist(), 'hyp': hyp, 'balance': loss_fn.balance, 'gr': loss_fn.gr,
        'p_shapes': [list(x.shape) for x in p], 'p': [x.detach().flatten().tolist() for x in p],
        'targets': targets.tolist(),
        'loss': loss.item(), 'items': items.tolist(), 'grad': [x.flatten().tolist() for x in grads],
        'matches_per_level': [len(i[0]) for i in indices],
        'build_targets': [{'b': i[0].tolist(), 'a': i[1].tolist(), 'gj': i[2].tolist(), 'gi': i[3].tolist(),
                           'tcls': c.tolist(), 'tbox': t.tolist(), 'anchors': an.tolist()}
                          for i, c, t, an in zip(indices, tcls, tbox, anch)],
    }
    out = os.path.join(HERE, 'loss_reference.json')
    with open(out, 'w') as f:
        json.dump(ref, f)
    print(f'loss {loss.item():.6f} items {items.tolist()} matches {ref["matches_per_level"]} -> {out}')


if __name__ == '__main__':
    main()
