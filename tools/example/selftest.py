#!/usr/bin/python3
"""Fast checks of the example's Python parts (about 10 s on 2 cores; exit 1 on failure):
LSQ rounding/clamping/gradients, ONNX-style integers, the evaluator on known answers, the loss reference.

  /usr/bin/python3 tools/example/selftest.py
"""
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import coco_map  # noqa: E402
from models.lsq import LsqQuantizer  # noqa: E402
from onnx_export import integer_weights  # noqa: E402


def test_lsq():
    q = LsqQuantizer(4, signed=True)
    q.s.data.fill_(0.5)
    x = torch.tensor([1.25, 1.75, -1.25, 10.0, -10.0, 0.2], requires_grad=True)  # ties at 2.5, 3.5, -2.5
    y = q(x)
    assert y.tolist() == [1.0, 2.0, -1.0, 3.5, -4.0, 0.0], y.tolist()  # half to even, clamp -8..7
    y.sum().backward()
    assert x.grad.tolist() == [1, 1, 1, 0, 0, 1], x.grad.tolist()  # straight through inside the range
    # LSQ step gradient: sum over elements of (round(x/s) - x/s) inside, qmin/qmax outside, times 1/sqrt(N*qmax)
    u = np.array([2.5, 3.5, -2.5, 20, -20, 0.4])
    inside = np.array([2 - 2.5, 4 - 3.5, -2 + 2.5, 7, -8, 0 - 0.4])
    expect = inside.sum() / math.sqrt(6 * 7)
    assert abs(q.s.grad.item() - expect) < 1e-5, (q.s.grad.item(), expect, u)
    a = LsqQuantizer(4, signed=False, zero_point=1)  # ONNX: uint8 codes 0..15, zero point 1
    a.s.data.fill_(1.0)
    v = torch.tensor([[-3.0, -0.6, 0.5, 14.4, 20.0]])
    onnx_like = (np.clip(np.round(v.numpy() / 1.0) + 1, 0, 15) - 1) * 1.0
    assert a(v).tolist() == onnx_like.tolist(), (a(v).tolist(), onnx_like.tolist())
    w = np.array([0.25, 0.75, -0.25, 5.0], np.float32)
    assert integer_weights(w, 0.5, -4, 3).tolist() == [0, 2, 0, 3]  # 0.5 -> 0, 1.5 -> 2, -0.5 -> 0


def test_evaluator():
    imgs = [{'id': 1, 'file_name': 'a', 'width': 320, 'height': 320}, {'id': 2, 'file_name': 'b', 'width': 320, 'height': 320}]
    anns = [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [10, 10, 100, 50], 'area': 5000, 'iscrowd': 0},
            {'id': 2, 'image_id': 2, 'category_id': 1, 'bbox': [50, 50, 40, 40], 'area': 1600, 'iscrowd': 0},
            {'id': 3, 'image_id': 2, 'category_id': 2, 'bbox': [0, 0, 20, 20], 'area': 400, 'iscrowd': 0}]
    coco = {'images': imgs, 'annotations': anns, 'categories': [{'id': 1}, {'id': 2}]}
    perfect = {1: np.array([[10, 10, 110, 60, 0.9, 0]]), 2: np.array([[50, 50, 90, 90, 0.8, 0], [0, 0, 20, 20, 0.7, 1]])}
    assert abs(coco_map(coco, perfect)['map'] - 1) < 1e-12
    # top-scored box shifted by 10% of its width: IoU 0.9/1.1 = 0.818, a true positive at thresholds .50-.80;
    # above, it is a false positive ranked first: precision 0.5 up to recall 0.5 -> 51 of 101 points at 0.5
    shifted = {1: np.array([[20, 10, 120, 60, 0.9, 0]]), 2: perfect[2]}
    r = coco_map(coco, shifted)
    assert abs(r['per_class']['1'] - (0.7 * 1 + 0.3 * 51 * 0.5 / 101)) < 1e-9 and abs(r['per_class']['2'] - 1) < 1e-12, r
    # a higher-scored false positive before the true one: precision 0.5 at recall 1 -> AP 0.5
    fp = {1: np.array([[200, 200, 260, 260, 0.95, 0], [10, 10, 110, 60, 0.9, 0]])}
    coco1 = {'images': imgs[:1], 'annotations': anns[:1], 'categories': [{'id': 1}]}
    assert abs(coco_map(coco1, fp)['map'] - 0.5) < 1e-9


def test_loss_reference():
    from models.yolo import YOLOV5_SHAPES_YAML  # noqa: F401
    from yolo_loss import ComputeLoss
    ref = json.load(open(os.path.join(HERE, 'loss_reference.json')))
    p = [torch.tensor(v, dtype=torch.float32).view(*s) for v, s in zip(ref['p'], ref['p_shapes'])]
    fn = ComputeLoss(ref['na'], ref['nl'], ref['nc'], torch.tensor(ref['anchors_grid_units']), ref['hyp'])
    loss, items = fn(p, torch.tensor(ref['targets']))
    assert abs(loss.item() - ref['loss']) < 1e-5 * abs(ref['loss']), (loss.item(), ref['loss'])


if __name__ == '__main__':
    for t in (test_lsq, test_evaluator, test_loss_reference):
        t()
        print('ok', t.__name__)
