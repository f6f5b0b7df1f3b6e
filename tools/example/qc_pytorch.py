#!/usr/bin/python3
"""QC in PyTorch, the baseline of `npm run bench qc`: the same model, loss, batches and optimizer as QAT Lens's
QC, timed per image per step on the CPU with a given number of threads. Prints one JSON object.

Model: the example's architecture (models/yolo.py, BN fused, quantize(bits) as train.py does), every number
taken from the QDQ ONNX it is given (`<conv>.weight_int` x `<conv>.weight_quantizer.s`, the bias, each input
quantizer's scale and zero point; onnx_export.py names the initialisers after the modules), so it is the model
QAT Lens trains, not a re-quantization of a checkpoint. QC: per quantized conv and output channel,
h <- gamma * h + beta on the conv output (bias included, before SiLU), gamma = 1, beta = 0 at the start; the
loss is yolo_loss.ComputeLoss (YOLOv5's, x batch); Adam(lr, 0.9, 0.999, 1e-8) on gamma/beta only, gamma
clamped at 1e-3 after each step.

Batches: written by bench/qc.ts (the letterboxed images and labels QAT Lens trains on), so both sides see the
same pixels: BATCHES.json {batch, size: [h, w], steps, targets: [[[image, cls, cx, cy, w, h], ...] per step]}
and BATCHES.f32 (steps x batch x 3 x h x w float32, RGB / 255).

  /usr/bin/python3 tools/example/qc_pytorch.py MODEL.onnx BATCHES --threads 2 [--lr 1e-3] [--warmup 1]
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from models.lsq import QConv2d  # noqa: E402
from models.yolo import DetectionModel  # noqa: E402
from yolo_loss import ComputeLoss  # noqa: E402

GAMMA_MIN = 1e-3


def model_from_onnx(path):
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    bits = json.loads(meta.get('bits', '{"w": 4, "a": 4}'))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    model = DetectionModel().fuse().quantize(int(bits['w']))
    n = 0
    with torch.no_grad():
        for name, mod in model.named_modules():
            if not isinstance(mod, QConv2d):
                continue
            s = float(inits[f'{name}.weight_quantizer.s'])
            w = torch.from_numpy(inits[f'{name}.weight_int'].astype(np.float32)) * s
            mod.weight.copy_(w)
            mod.bias.copy_(torch.from_numpy(inits[f'{name}.bias'].astype(np.float32)))
            mod.weight_quantizer.s.fill_(s)
            iq = mod.input_quantizer
            z = int(inits[f'{name}.input_quantizer.zero_point'])
            hi = int(inits[f'{name}.input_quantizer.qmax'])
            iq.zero_point, iq.bits = z, int(round(math.log2(hi + 1)))
            iq.qmin, iq.qmax = -z, hi - z
            iq.s.fill_(float(inits[f'{name}.input_quantizer.s']))
            n += 1
    if n == 0:
        raise SystemExit(f'{path}: no quantized conv of the example architecture')
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('batches', help='path prefix of BATCHES.json / BATCHES.f32 (bench/qc.ts writes them)')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--warmup', type=int, default=1, help='untimed steps first (they are in the loss curve)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    spec = json.load(open(a.batches + '.json'))
    bs, (h, w), steps = spec['batch'], spec['size'], spec['steps']
    images = np.memmap(a.batches + '.f32', np.float32, 'r', shape=(steps, bs, 3, h, w))

    model = model_from_onnx(a.model)
    for p in model.parameters():
        p.requires_grad_(False)
    model.train()  # Detect returns the raw heads [bs, na, ny, nx, no]; there is no BN or dropout
    gammas, betas = [], []

    def hook(g, b):
        return lambda mod, inp, out: out * g.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)

    for mod in model.modules():
        if isinstance(mod, QConv2d):
            g = torch.ones(mod.out_channels, requires_grad=True)
            b = torch.zeros(mod.out_channels, requires_grad=True)
            mod.register_forward_hook(hook(g, b))
            gammas.append(g)
            betas.append(b)
    loss_fn = ComputeLoss.for_model(model, h)
    opt = torch.optim.Adam(gammas + betas, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)

    losses = []
    t_wall = t_cpu = 0.0
    for step in range(steps):
        x = torch.from_numpy(np.array(images[step]))
        t = torch.tensor(spec['targets'][step], dtype=torch.float32).view(-1, 6)
        w0, c0 = time.perf_counter(), time.process_time()
        loss, _ = loss_fn(model(x), t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for g in gammas:
                g.clamp_(min=GAMMA_MIN)
        losses.append(loss.item())
        if step >= a.warmup:
            t_wall += time.perf_counter() - w0
            t_cpu += time.process_time() - c0
    timed = steps - a.warmup
    print(json.dumps({
        'engine': f'pytorch {torch.__version__} cpu ({a.threads} threads)', 'threads': a.threads, 'batch': bs,
        'size': [h, w], 'steps': steps, 'timedSteps': timed,
        'msPerImage': 1000 * t_wall / max(timed * bs, 1), 'stepMs': 1000 * t_wall / max(timed, 1),
        'cpuPerWall': t_cpu / t_wall if t_wall else None,
        'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'losses': losses,
    }))


if __name__ == '__main__':
    main()
