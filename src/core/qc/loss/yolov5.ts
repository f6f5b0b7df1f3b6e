// YOLOv5's ComputeLoss (ultralytics/yolov5 utils/loss.py, hyp.scratch gains as train.py scales them)
// on NCHW heads [bs, na*(5+nc), ny, nx], value and analytic gradient with respect to the heads:
// build_targets matching, then the shared anchor-based loss (anchorLoss.ts). Checked against
// PyTorch autograd and finite differences in test/qc/loss-yolov5.test.ts.
import { anchorsInGrid, buildTargets } from './anchorMatch';
import { anchorHeadShapes, anchorLoss } from './anchorLoss';
import type { DetectionLoss, YoloLossConfig } from './types';

export function yolov5Loss(cfg: YoloLossConfig): DetectionLoss {
  const anchors = anchorsInGrid(cfg);
  return {
    family: 'yolov5',
    compute(heads, targets) {
      const shapes = anchorHeadShapes(heads, targets, anchors, cfg.nc);
      return anchorLoss(heads, shapes, buildTargets(shapes, targets, anchors, cfg.anchorT ?? 4.0), cfg, 'v5');
    },
  };
}
