// The COCO detection types, in one place for the data sets, the pipeline and the evaluator (field
// names as in the COCO files, so objects serialise straight to instances / results JSON). The
// optional fields are those a COCO file may leave out; the data sets fill them all.
export type Bbox = [number, number, number, number];

export interface CocoImage {
  id: number;
  file_name?: string;
  width?: number;
  height?: number;
}
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, w, h] in pixels of the original image. */
  bbox: Bbox;
  area: number;
  iscrowd?: 0 | 1;
  /** Read but without effect: pycocotools overwrites it with iscrowd before use. */
  ignore?: number;
}
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}
/** Ground truth: a COCO instances file. */
export interface CocoGt {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}
/** One detection of a COCO results file. */
export interface CocoDet {
  image_id: number;
  category_id: number;
  bbox: Bbox;
  score: number;
}
