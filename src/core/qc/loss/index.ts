// The detection loss of each head family, by name: YOLOv5's ComputeLoss, YOLOv7's ComputeLossOTA
// (anchor-based heads [bs, na*(5+nc), ny, nx]) and ultralytics' v8DetectionLoss (YOLOv8/YOLO11
// anchor-free heads [bs, 4*regMax + nc, ny, nx]). All give d loss / d heads with the value.
import { QatLensError } from '../../errors';
import type { AnchorFreeLossConfig, DetectionLoss, YoloLossConfig } from './types';
import { yolov5Loss } from './yolov5';
import { yolov7Loss } from './yolov7';
import { yolov8Loss } from './yolov8';

export type { AnchorFreeLossConfig, DetectionLoss, HeadTensor, LossValue, Target, YoloLossConfig } from './types';

export type HeadFamily = 'yolov5' | 'yolov7' | 'yolov8';
export type LossConfig = YoloLossConfig | AnchorFreeLossConfig;

export function lossFor(family: 'yolov5' | 'yolov7', cfg: YoloLossConfig): DetectionLoss;
export function lossFor(family: 'yolov8', cfg: AnchorFreeLossConfig): DetectionLoss;
export function lossFor(family: HeadFamily, cfg: LossConfig): DetectionLoss;
export function lossFor(family: HeadFamily, cfg: LossConfig): DetectionLoss {
  if (family === 'yolov8') return yolov8Loss(cfg);
  if (!('anchors' in cfg)) throw new QatLensError(`loss: ${family} heads need anchors and none were given`);
  return family === 'yolov7' ? yolov7Loss(cfg) : yolov5Loss(cfg);
}
