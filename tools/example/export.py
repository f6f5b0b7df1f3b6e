#!/usr/bin/python3
"""Turn the training runs (train.py's .npz) into the committed example: YOLOv5-format checkpoints
(whole pickled modules in FP16), ONNX exports, and the measured mAPs / weight statistics.

  /usr/bin/python3 tools/example/export.py --runs DIR --out examples/shapes

DIR holds float.npz, w4a4.npz, w3a3.npz (from tools/example/device_train.sh).
"""
import argparse
import datetime
import json
import os
import sys
from copy import deepcopy

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import evaluate_model  # noqa: E402
from models.lsq import QConv2d  # noqa: E402
from onnx_export import export, integer_weights  # noqa: E402
from rebuild import build, load_run  # noqa: E402
from train import param_groups  # noqa: E402


def fitness(r):
    return 0.1 * r['map50'] + 0.9 * r['map']  # YOLOv5's fitness weights for (mAP@.5, mAP@.5:.95)


def clean(model):
    """Drop the decode grids Detect caches during evaluation (rebuilt on the next forward)."""
    d = model.model[-1]
    d.grid = [torch.empty(0) for _ in range(d.nl)]
    d.anchor_grid = [torch.empty(0) for _ in range(d.nl)]
    return model


def optimizer_state(model, z, epoch, groups):
    g_bias, g_w, g_nodecay = param_groups(model)
    opt = torch.optim.SGD(g_bias, lr=groups[0]['lr'], momentum=0.937, nesterov=True)
    opt.add_param_group({'params': g_w, 'weight_decay': groups[1]['weight_decay']})
    opt.add_param_group({'params': g_nodecay, 'weight_decay': 0.0})
    sd = opt.state_dict()
    state = {}
    for i in range(sum(len(g['params']) for g in sd['param_groups'])):
        key = f'e{epoch}/opt/{i}'
        if key in z.files:
            state[i] = {'momentum_buffer': torch.from_numpy(np.array(z[key]))}
    keep = ('lr', 'momentum', 'dampening', 'weight_decay', 'nesterov', 'initial_lr')
    pg = [{**{k: v for k, v in src.items() if k in keep}, 'params': dst['params'], 'maximize': False, 'foreach': None}
          for src, dst in zip(groups, sd['param_groups'])]
    opt.load_state_dict({'state': state, 'param_groups': pg})
    return opt.state_dict()


def weight_stats(model, delta=0.05):
    """Near-threshold share of the latent weights of the low-bit layers (NT and C of docs/definitions.md)."""
    near = inrange = 0
    per_layer = {}
    for name, m in model.named_modules():
        if isinstance(m, QConv2d) and m.weight_quantizer.bits < 8:
            q = m.weight_quantizer
            u = m.weight.detach().double().numpy() / float(q.s.item())
            ok = (u >= q.qmin - 0.5) & (u <= q.qmax + 0.5)
            f = u[ok] - np.floor(u[ok])
            nt = int((np.abs(f - 0.5) < delta).sum())
            per_layer[name] = round(nt / max(ok.sum(), 1) / (2 * delta), 3)
            near += nt
            inrange += int(ok.sum())
    return {'NT': near / inrange, 'C': near / inrange / (2 * delta), 'C_per_layer': per_layer}


def int_states(model):
    return {name: integer_weights(m.weight.detach().numpy(), m.weight_quantizer.s.item(), m.weight_quantizer.qmin,
                                  m.weight_quantizer.qmax)
            for name, m in model.named_modules() if isinstance(m, QConv2d)}


def check_fake_quant_integers(model):
    """The integers PyTorch's fake quant uses must equal the ONNX ones (numpy float32 QuantizeLinear)."""
    bad = total = 0
    for name, m in model.named_modules():
        if isinstance(m, QConv2d):
            q = m.weight_quantizer
            t = torch.clamp(m.weight.detach() / q.s.detach(), q.qmin, q.qmax).round().numpy().astype(np.int8)
            o = integer_weights(m.weight.detach().numpy(), q.s.item(), q.qmin, q.qmax)
            bad += int((t != o).sum())
            total += t.size
    return bad, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', required=True)
    ap.add_argument('--out', default='examples/shapes')
    ap.add_argument('--optimizer', choices=['all', 'last', 'none'], default='none',
                    help='which QAT checkpoints keep optimizer.state_dict() (size budget)')
    ap.add_argument('--latent-bits', default='4', help='comma list of runs that also get qdq_latent.onnx (size budget)')
    ap.add_argument('--skip-eval', action='store_true')
    a = ap.parse_args()
    out = a.out
    metrics = {'evaluation': 'tools/example/evaluate.py: own COCO-style bbox mAP (101-point, IoU .50:.95, '
                             'maxDets 100; not pycocotools) on the val split, YOLOv5 NMS conf 0.001 IoU 0.6',
               'runs': {}}
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()

    # float
    z, meta = load_run(os.path.join(a.runs, 'float.npz'))
    e = meta['saved_epochs'][-1]
    fm = build(z, meta, e, 'ema')
    r = evaluate_model(fm) if not a.skip_eval else {'map': 0, 'map50': 0}
    print('float ema', json.dumps(r), flush=True)
    opt_meta = {k: v for k, v in meta.items() if k not in ('log', 'saved')}
    ck = {'epoch': -1, 'best_fitness': fitness(r), 'model': clean(deepcopy(fm)).half(), 'ema': None, 'updates': None,
          'optimizer': None, 'opt': opt_meta, 'date': now}
    torch.save(ck, os.path.join(out, 'float.pt'))
    fused = deepcopy(fm).fuse().eval()
    export(fused, os.path.join(out, 'float.onnx'), 'float', {'w': 32, 'a': 32})
    metrics['runs']['float'] = {'epochs': meta['epochs'], 'updates': meta['saved'][-1]['updates'], 'ema': r,
                                'settings': opt_meta}

    for bits in (4, 3):
        run = f'w{bits}a{bits}'
        os.makedirs(os.path.join(out, run), exist_ok=True)
        z, meta = load_run(os.path.join(a.runs, f'{run}.npz'))
        opt_meta = {k: v for k, v in meta.items() if k not in ('log', 'saved')}
        res = {'epochs': meta['epochs'], 'settings': opt_meta, 'checkpoints': {}}
        best = 0.0
        prev = None
        for k, (e, saved) in enumerate(zip(meta['saved_epochs'], meta['saved'])):
            model, ema = build(z, meta, e, 'model'), build(z, meta, e, 'ema')
            rm = evaluate_model(model) if not a.skip_eval else {'map': 0, 'map50': 0}
            re = evaluate_model(ema) if not a.skip_eval else {'map': 0, 'map50': 0}
            best = max(best, fitness(re))
            with_opt = a.optimizer == 'all' or (a.optimizer == 'last' and k == len(meta['saved_epochs']) - 1)
            ck = {'epoch': e, 'best_fitness': best, 'model': clean(deepcopy(model)).half(),
                  'ema': clean(deepcopy(ema)).half(), 'updates': saved['updates'],
                  'optimizer': optimizer_state(model, z, e, saved['param_groups']) if with_opt else None,
                  'opt': opt_meta, 'date': now}
            torch.save(ck, os.path.join(out, run, f'epoch_{e}.pt'))
            ints = int_states(model)
            flips = None
            if prev is not None:
                n = sum(v.size for v in ints.values())
                flips = sum(int((ints[kk] != prev[kk]).sum()) for kk in ints) / n
            prev = ints
            bad, total = check_fake_quant_integers(ema)
            res['checkpoints'][f'epoch_{e}'] = {
                'updates': saved['updates'], 'model': rm, 'ema': re, 'optimizer_saved': with_opt,
                'model_weight_stats': weight_stats(model), 'ema_weight_stats': weight_stats(ema),
                'flip_fraction_vs_previous_model': flips, 'fake_quant_vs_onnx_integer_mismatches': [bad, total]}
            print(run, e, 'model', round(rm['map'], 4), 'ema', round(re['map'], 4), 'flips', flips,
                  'C', round(res['checkpoints'][f'epoch_{e}']['model_weight_stats']['C'], 3), flush=True)
            last_ema = ema
        bm = {'w': bits, 'a': bits, 'first': 8, 'last': 8}
        export(last_ema, os.path.join(out, run, 'qdq.onnx'), 'qdq', bm)
        if str(bits) in a.latent_bits.split(','):
            export(last_ema, os.path.join(out, run, 'qdq_latent.onnx'), 'latent', bm)
        res['onnx_from'] = f'epoch_{meta["saved_epochs"][-1]}.pt ema'
        metrics['runs'][run] = res
    with open(os.path.join(out, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    print('wrote', out)


if __name__ == '__main__':
    main()
