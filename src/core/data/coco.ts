// COCO detection types shared by the data sets, the pipeline and the evaluator (field names as in
// the COCO files, so the objects serialise straight to instances / results JSON).
export type Bbox = [number, number, number, number];

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, w, h] in pixels of the original image. */
  bbox: Bbox;
  area: number;
  iscrowd: 0 | 1;
}
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}
export interface CocoGtData {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}
export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: Bbox;
  score: number;
}
