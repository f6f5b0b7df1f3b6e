// A data set as every loader returns it (COCO JSON or YOLO data.yaml), apart from the loaders so
// that dataset.ts, cocoSet.ts and yoloSet.ts do not import each other.
import type { CocoGt } from './coco';

export interface DatasetImage {
  /** COCO image id (ground truth and detections use it). */
  id: number;
  /** Absolute path of the image file. */
  file: string;
  width: number;
  height: number;
}

export interface Dataset {
  format: 'coco' | 'yolo';
  /** The JSON or data.yaml the data set was read from. */
  source: string;
  split: string;
  /** Class names in model class order (COCO: categories sorted by id). */
  names: string[];
  /** Model class index -> COCO category id. */
  categoryIds: number[];
  images: DatasetImage[];
  gt: CocoGt;
}
