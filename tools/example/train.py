#!/usr/bin/python3
"""Float training and LSQ QAT of the shapes detector, YOLOv5-style (SGD nesterov 0.937, param groups,
warmup, linear LR, grad-norm clip 10, ModelEMA with decay 0.9999 * (1 - exp(-updates / 2000))).

Writes plain arrays (np.savez, readable by any torch/numpy version) for the saved epochs:
  e<N>/model/<key>, e<N>/ema/<key>  (fp32 state dicts), e<N>/opt/<param index> (momentum buffers),
  meta (JSON: epochs, updates, param groups, settings, log).
export.py rebuilds YOLOv5-format checkpoints and ONNX from it.

  float: python3 tools/example/train.py --mode float --data /tmp/shapes --budget 200 --out float.npz
  QAT:   python3 tools/example/train.py --mode qat --bits 4 --init float.npz --data /tmp/shapes --budget 250 --out w4a4.npz
"""
import argparse
import json
import math
import os
import sys
import time
from collections import deque
from copy import deepcopy
from multiprocessing import Pool

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models.lsq import QConv2d  # noqa: E402
from models.yolo import NAMES, DetectionModel  # noqa: E402
from yolo_loss import ComputeLoss  # noqa: E402

IMG = 320


def load_split(root, split, limit=None):
    """All images of a split as uint8 [N, 3, H, W] and labels padded to [N, L, 5] (class, cx, cy, w, h)."""
    from PIL import Image
    cache = os.path.join(root, f'{split}_cache.npz')
    if os.path.exists(cache) and limit is None:
        z = np.load(cache)
        return z['imgs'], z['labels']
    names = sorted(os.listdir(os.path.join(root, 'images', split)))[:limit]
    imgs = np.zeros((len(names), 3, IMG, IMG), np.uint8)
    with Pool(min(16, os.cpu_count() or 1)) as pool:
        decoded = pool.map(_read_one, [(root, split, n) for n in names], chunksize=32)
    labs = []
    for i, (im, lab) in enumerate(decoded):
        imgs[i] = im
        labs.append(lab)
    L = max(1, max(len(x) for x in labs))
    labels = np.full((len(names), L, 5), -1, np.float32)
    for i, x in enumerate(labs):
        if x:
            labels[i, :len(x)] = x
    if limit is None:
        np.savez(cache, imgs=imgs, labels=labels)
    return imgs, labels


def _read_one(args):
    from PIL import Image
    root, split, n = args
    im = np.asarray(Image.open(os.path.join(root, 'images', split, n)).convert('RGB')).transpose(2, 0, 1)
    with open(os.path.join(root, 'labels', split, n[:-4] + '.txt')) as f:
        lab = [[float(v) for v in line.split()] for line in f if line.strip()]
    return im, lab


def get_batch(imgs, labels, idx, augment):
    """imgs/labels live on the training device. Returns float images 0..1 and targets [nt, 6]."""
    x = imgs[idx].float() / 255
    lab = labels[idx].clone()
    if augment:
        flip = torch.rand(len(idx), device=x.device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        lab[..., 1] = torch.where(flip[:, None] & (lab[..., 0] >= 0), 1 - lab[..., 1], lab[..., 1])
        gain = 1 + (torch.rand(len(idx), 1, 1, 1, device=x.device) - 0.5) * 0.4  # brightness +-20%
        x = (x * gain).clamp(0, 1)
    b, j = torch.nonzero(lab[..., 0] >= 0, as_tuple=True)
    targets = torch.cat((b[:, None].float(), lab[b, j]), 1)
    return x, targets


class ModelEMA:
    """YOLOv5's ModelEMA: d = decay * (1 - exp(-updates / tau))."""

    def __init__(self, model, decay=0.9999, tau=2000, updates=0):
        self.ema = deepcopy(model).eval()
        self.updates = updates
        self.decay = lambda x: decay * (1 - math.exp(-x / tau))
        for p in self.ema.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = self.decay(self.updates)
        msd = model.state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v *= d
                v += (1 - d) * msd[k].detach()


def param_groups(model):
    """YOLOv5's three groups: biases (no decay), weights (decay), BN weights (no decay). LSQ step
    sizes go with the BN weights (no decay)."""
    g_bias, g_w, g_nodecay = [], [], []
    for name, p in model.named_parameters():
        if name.endswith('.s') or '.bn.' in name:
            g_nodecay.append(p)
        elif name.endswith('.bias'):
            g_bias.append(p)
        else:
            g_w.append(p)
    return g_bias, g_w, g_nodecay


@torch.no_grad()
def calibrate_inputs(model, x):
    """Initialise every activation quantizer from one batch (MSE-optimal step)."""
    hooks = []
    for m in model.modules():
        if isinstance(m, QConv2d):
            hooks.append(m.register_forward_pre_hook(lambda mod, inp: mod.input_quantizer.init_from(inp[0])))
    model.eval()
    model(x)
    for h in hooks:
        h.remove()


def state_to_np(sd):
    return {k: v.detach().float().cpu().numpy() for k, v in sd.items() if v.dtype.is_floating_point}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mode', choices=['float', 'qat'], required=True)
    ap.add_argument('--bits', type=int, default=4)
    ap.add_argument('--data', required=True)
    ap.add_argument('--init', help='float run .npz (its last EMA starts the QAT run)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--budget', type=float, default=60, help='seconds of training; sets the epoch count')
    ap.add_argument('--epochs', type=int, default=0, help='fixed epoch count (overrides --budget)')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr0', type=float, default=None)
    ap.add_argument('--lrf', type=float, default=None)
    ap.add_argument('--save-last', type=int, default=None)
    ap.add_argument('--limit', type=int, default=None, help='use only the first N training images (smoke test)')
    ap.add_argument('--iters-per-epoch', type=int, default=0, help='smoke test: shorter epochs')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--deadline', type=float, default=0, help='unix time: stop early, keep the epochs done')
    a = ap.parse_args()
    qat = a.mode == 'qat'
    lr0 = a.lr0 if a.lr0 is not None else (0.004 if qat else 0.01)
    lrf = a.lrf if a.lrf is not None else (0.25 if qat else 0.01)
    save_last = a.save_last if a.save_last is not None else (3 if qat else 1)
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    if dev.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    t_start = time.time()
    log = []

    def say(msg):
        line = f'[{a.mode}{a.bits if qat else ""} {time.time() - t_start:7.1f}s] {msg}'
        print(line, flush=True)
        log.append(line)

    imgs_np, labels_np = load_split(a.data, 'train', a.limit)
    imgs = torch.from_numpy(imgs_np).to(dev)
    labels = torch.from_numpy(labels_np).to(dev)
    n = len(imgs)
    say(f'{n} training images on {dev}, torch {torch.__version__}')

    model = DetectionModel().to(dev)
    model.names = list(NAMES)
    if qat:
        z = np.load(a.init)
        meta0 = json.loads(str(z['meta']))
        e = meta0['saved_epochs'][-1]
        sd = {k[len(f'e{e}/ema/'):]: torch.from_numpy(z[k]) for k in z.files if k.startswith(f'e{e}/ema/')}
        missing = model.load_state_dict(sd, strict=False)
        assert not [k for k in missing.missing_keys if 'num_batches' not in k], missing
        model.fuse().quantize(a.bits).to(dev)
        idx = torch.randperm(n, device=dev)[:min(n, 64)]
        calibrate_inputs(model, get_batch(imgs, labels, idx, False)[0])
    model.train()
    compute_loss = ComputeLoss.for_model(model, IMG)

    bs = min(a.batch, n)
    nb = a.iters_per_epoch or max(1, n // bs)
    wd = 5e-4 * bs / 64
    g_bias, g_w, g_nodecay = param_groups(model)
    opt = torch.optim.SGD(g_bias, lr=lr0, momentum=0.937, nesterov=True)
    opt.add_param_group({'params': g_w, 'weight_decay': wd})
    opt.add_param_group({'params': g_nodecay, 'weight_decay': 0.0})
    ema = ModelEMA(model)

    def step(it, total):
        frac = it / max(total, 1)
        lf = (1 - frac) * (1.0 - lrf) + lrf
        nw = min(max(100 if not qat else 30, 3 * nb if not qat else 0), total // 3)
        for j, g in enumerate(opt.param_groups):
            target = lr0 * lf
            if it < nw:
                start = (0.1 if j == 0 and not qat else 0.0)
                g['lr'] = start + (target - start) * it / nw
                g['momentum'] = 0.8 + (0.937 - 0.8) * it / nw
            else:
                g['lr'] = target
                g['momentum'] = 0.937
        idx = torch.randint(0, n, (bs,), device=dev)
        x, targets = get_batch(imgs, labels, idx, True)
        loss, items = compute_loss(model(x), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        opt.step()
        ema.update(model)
        return items

    # time a few steps to turn the budget into an epoch count
    if a.epochs:
        epochs = a.epochs
    else:
        probe = 8
        for i in range(3):
            step(0, 10 ** 9)
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        t0 = time.time()
        for i in range(probe):
            step(0, 10 ** 9)
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        t_it = (time.time() - t0) / probe
        left = a.budget - (time.time() - t_start)
        epochs = max(save_last + 1, int(left / t_it / nb))
        say(f'{t_it * 1000:.1f} ms/iter, {nb} iters/epoch -> {epochs} epochs')
    total = epochs * nb
    kept = deque(maxlen=save_last)  # the last epochs' states, written at the end (or at the deadline)
    mean = torch.zeros(3, device=dev)
    it = 0
    for epoch in range(epochs):
        mean.zero_()
        for _ in range(nb):
            mean += step(it, total)
            it += 1
        m = (mean / nb).tolist()
        say(f'epoch {epoch} box {m[0]:.4f} obj {m[1]:.4f} cls {m[2]:.4f} lr {opt.param_groups[1]["lr"]:.5f} updates {ema.updates}')
        if epoch >= epochs - save_last or a.deadline:
            st = opt.state_dict()
            kept.append((epoch, ema.updates, state_to_np(model.state_dict()), state_to_np(ema.ema.state_dict()),
                         {pi: s['momentum_buffer'].float().cpu().numpy() for pi, s in st['state'].items()},
                         [{k: v for k, v in g.items()} for g in st['param_groups']]))
        if a.deadline and time.time() > a.deadline and epoch < epochs - 1:
            say(f'deadline reached after epoch {epoch} of {epochs}: stopping early')
            break
    out = {}
    saved = []
    for epoch, updates, msd, esd, mom, groups in kept:
        for k, v in msd.items():
            out[f'e{epoch}/model/{k}'] = v
        for k, v in esd.items():
            out[f'e{epoch}/ema/{k}'] = v
        for pi, v in mom.items():
            out[f'e{epoch}/opt/{pi}'] = v
        saved.append({'epoch': epoch, 'updates': updates, 'param_groups': groups})
    meta = {'mode': a.mode, 'bits': a.bits if qat else 32, 'epochs': epochs, 'iters_per_epoch': nb, 'batch': bs,
            'lr0': lr0, 'lrf': lrf, 'weight_decay': wd, 'momentum': 0.937, 'n_train': n,
            'epochs_run': saved[-1]['epoch'] + 1 if saved else 0,
            'saved_epochs': [s['epoch'] for s in saved], 'saved': saved, 'seconds': time.time() - t_start,
            'torch': torch.__version__, 'device': str(dev) if dev.type == 'cpu' else torch.cuda.get_device_name(0),
            'log': log}
    out['meta'] = np.array(json.dumps(meta))
    tmp = a.out + '.tmp.npz'
    np.savez(tmp, **out)
    os.replace(tmp, a.out)
    say(f'wrote {a.out}')


if __name__ == '__main__':
    main()
