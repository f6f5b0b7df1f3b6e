#!/usr/bin/python3
"""Consistency checks of the committed example (exit 1 on any failure):
YOLO labels == COCO annotations (area = w*h, category = class + 1, iscrowd 0), images 320x320 RGB,
data.yaml, ONNX metadata and opset, checkpoint format, total size <= 25 MB.

  /usr/bin/python3 tools/example/check_example.py [examples/shapes]
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def main(root):
    from PIL import Image
    for split in ('calib', 'val'):
        coco = json.load(open(os.path.join(root, 'annotations', f'instances_{split}.json')))
        check([c['id'] for c in coco['categories']] == [1, 2, 3, 4, 5], f'{split}: category ids')
        by_img = {}
        for a in coco['annotations']:
            by_img.setdefault(a['image_id'], []).append(a)
            x, y, w, h = a['bbox']
            check(abs(a['area'] - w * h) <= 0.0005 + 1e-9, f'{split}: area of annotation {a["id"]}')
            check(a['iscrowd'] == 0 and 1 <= a['category_id'] <= 5, f'{split}: annotation {a["id"]}')
        files = sorted(os.listdir(os.path.join(root, 'images', split)))
        check(len(files) == len(coco['images']), f'{split}: image count')
        for im in coco['images']:
            p = os.path.join(root, 'images', split, im['file_name'])
            with Image.open(p) as pil:
                check(pil.size == (320, 320) and pil.mode == 'RGB', f'{p}: size/mode')
            rows = [list(map(float, line.split())) for line in open(os.path.join(root, 'labels', split, im['file_name'][:-4] + '.txt')) if line.strip()]
            anns = by_img.get(im['id'], [])
            check(len(rows) == len(anns), f'{split}/{im["file_name"]}: label count')
            for r, a in zip(rows, anns):
                x, y, w, h = a['bbox']
                ref = [a['category_id'] - 1, (x + w / 2) / 320, (y + h / 2) / 320, w / 320, h / 320]
                check(np.allclose(r, ref, atol=2e-5), f'{split}/{im["file_name"]}: YOLO row {r} vs COCO {ref}')
        print(f'{split}: {len(coco["images"])} images, {len(coco["annotations"])} objects checked')
    import onnx
    for f in ('float.onnx', 'w4a4/qdq.onnx', 'w4a4/qdq_latent.onnx', 'w3a3/qdq.onnx'):
        p = os.path.join(root, f)
        m = onnx.load(p)
        onnx.checker.check_model(m, full_check=True)
        meta = {x.key: x.value for x in m.metadata_props}
        check(set(meta) >= {'stride', 'anchors', 'names', 'nc', 'imgsz', 'family', 'bits'}, f'{p}: metadata {sorted(meta)}')
        check(m.opset_import[0].version == 13 and m.graph.input[0].name == 'images', f'{p}: opset/input')
        ops = {n.op_type for n in m.graph.node}
        if 'qdq' in f:
            check({'QuantizeLinear', 'DequantizeLinear', 'Clip'} <= ops, f'{p}: QDQ ops')
        print(f, 'ok', meta['bits'])
    import torch
    for run in ('w4a4', 'w3a3'):
        cks = sorted(f for f in os.listdir(os.path.join(root, run)) if f.endswith('.pt'))
        check(len(cks) == 3, f'{run}: three checkpoints')
        for c in cks:
            ck = torch.load(os.path.join(root, run, c), map_location='cpu')
            check({'epoch', 'model', 'ema', 'updates', 'optimizer', 'best_fitness'} <= set(ck), f'{run}/{c}: keys')
            check(next(ck['model'].parameters()).dtype == torch.float16, f'{run}/{c}: FP16')
        print(run, cks)
    size = int(subprocess.run(['du', '-sk', root], capture_output=True, text=True).stdout.split()[0])
    check(size <= 25 * 1000 * 1000 / 1024, f'{root}: {size} KiB on disk > 25 MB')
    print(f'du: {size} KiB')
    for e in errors[:20]:
        print('FAIL', e)
    if len(errors) > 20:
        print(f'... {len(errors) - 20} more failures')
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'examples/shapes')
