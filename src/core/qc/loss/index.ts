// The detection loss of each head family, by name.
import type { DetectionLoss, YoloLossConfig } from './types';
import { yolov5Loss } from './yolov5';

export type { DetectionLoss, HeadTensor, LossValue, Target, YoloLossConfig } from './types';

export type HeadFamily = 'yolov5';

const factories: Record<HeadFamily, (cfg: YoloLossConfig) => DetectionLoss> = {
  yolov5: yolov5Loss,
};

export function lossFor(family: HeadFamily, cfg: YoloLossConfig): DetectionLoss {
  return factories[family](cfg);
}
