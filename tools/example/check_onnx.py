#!/usr/bin/python3
"""Cross-check the committed ONNX files against PyTorch: run each with onnxruntime-node (CPU) on the val
split, compare outputs with the PyTorch model they were exported from, check qdq.onnx == qdq_latent.onnx
(so ONNX's QuantizeLinear gives the stored integers), and compute the ONNX mAP with evaluate.py.

  /usr/bin/python3 tools/example/check_onnx.py [examples/shapes]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import coco_map, load_images, nms, predict  # noqa: E402


def ort(model_path, x, tmp):
    inp, out = os.path.join(tmp, 'in.f32'), os.path.join(tmp, 'out.f32')
    if not os.path.exists(inp):
        x.astype(np.float32).tofile(inp)
    subprocess.run(['node', os.path.join(HERE, 'ort_run.mjs'), model_path, inp, str(len(x)), out], check=True)
    return np.fromfile(out, np.float32).reshape(len(x), -1, 10)


def int_mismatch(ck_model, onnx_path):
    """Integer weights recomputed from the FP16 checkpoint vs the int8 initialisers of qdq.onnx."""
    from onnx import numpy_helper
    from onnx_export import integer_weights
    from models.lsq import QConv2d
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
    bad = total = 0
    for name, m in ck_model.named_modules():
        if isinstance(m, QConv2d):
            q = m.weight_quantizer
            w = m.weight.detach().float().numpy()
            ints = integer_weights(w, q.s.float().item(), q.qmin, q.qmax)
            bad += int((ints != inits[f'{name}.weight_int']).sum())
            total += ints.size
    return [bad, total]


def main(root, runs=None):
    imgs, coco = load_images(root, 'val')
    x = imgs.astype(np.float32) / 255
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, pt, which in [('float', 'float.pt', 'model'), ('w4a4', 'w4a4/qdq.onnx', None),
                                ('w3a3', 'w3a3/qdq.onnx', None)]:
            if name == 'float':
                model = torch.load(os.path.join(root, pt), map_location='cpu')['model'].float().fuse()
                if runs:
                    from rebuild import build, load_run
                    z, meta = load_run(os.path.join(runs, 'float.npz'))
                    model = build(z, meta, meta['saved_epochs'][-1], 'ema').fuse()
                onnx_files = ['float.onnx']
            else:
                cks = sorted((f for f in os.listdir(os.path.join(root, name)) if f.endswith('.pt')),
                             key=lambda f: int(f[6:-3]))
                model = torch.load(os.path.join(root, name, cks[-1]), map_location='cpu')['ema']
                report[f'{name} fp16 checkpoint integers != onnx integers'] = int_mismatch(model, os.path.join(root, name, 'qdq.onnx'))
                if runs:  # the exact FP32 source of the export
                    from rebuild import build, load_run
                    z, meta = load_run(os.path.join(runs, f'{name}.npz'))
                    model = build(z, meta, meta['saved_epochs'][-1], 'ema')
                model = model.float()
                onnx_files = [f'{name}/qdq.onnx'] + ([f'{name}/qdq_latent.onnx']
                                                     if os.path.exists(os.path.join(root, name, 'qdq_latent.onnx')) else [])
            # the checkpoints hold FP16 modules, the ONNX came from the FP32 training state (--runs DIR)
            outs = {}
            for f in onnx_files:
                m = onnx.load(os.path.join(root, f))
                onnx.checker.check_model(m, full_check=True)
                outs[f] = ort(os.path.join(root, f), x, tmp)
                dets = {im['id']: nms(p) for im, p in zip(coco['images'], outs[f])}
                r = coco_map(coco, dets)
                report[f] = {'map': r['map'], 'map50': r['map50']}
                print(f, json.dumps(report[f]), flush=True)
            if len(outs) == 2:
                a, b = outs.values()
                report[f'{name} qdq vs latent max abs diff'] = float(np.abs(a - b).max())
            src = 'fp32 run state' if runs else 'fp16 checkpoint'
            diff = np.abs(predict(model, imgs[:20]) - outs[onnx_files[0]][:20])
            report[f'{name} pytorch ({src}) vs onnx max abs diff, 20 images'] = float(diff.max())
            # QDQ graphs: a different float summation order can move an activation across a rounding
            # threshold (one step), which then shifts some outputs downstream
            report[f'{name} pytorch ({src}) vs onnx share of outputs differing > 1e-3'] = float((diff > 1e-3).mean())
            print(json.dumps({k: v for k, v in report.items() if name in k}), flush=True)
    with open(os.path.join(root, 'onnx_check.json'), 'w') as f:
        json.dump(report, f, indent=1)


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('root', nargs='?', default='examples/shapes')
    ap.add_argument('--runs', help="train.py outputs (float.npz, w4a4.npz, w3a3.npz): compare with the exact FP32 source")
    a = ap.parse_args()
    main(a.root, a.runs)
