// COCOeval's per-image evaluations kept after scoring (evaluateCoco with opts.perImage), in the
// form the bootstrap re-accumulates: the matches of every (category, image) cell, and per category
// the kept detections in accumulate()'s order. Large (typed arrays); never serialised.
import { sortedKept } from './cocoAccumulate';
import { A } from './cocoParams';
import type { CocoMatches } from './cocoMatch';

export class PerImageEvals {
  private orders: Int32Array[] | undefined;
  private imageOf: Int32Array | undefined;
  private readonly useful = new Map<number, number>();

  constructor(
    readonly imgIds: readonly number[],
    readonly catIds: readonly number[],
    readonly matches: CocoMatches,
  ) {}

  get images(): number {
    return this.imgIds.length;
  }

  /** Kept detections of category k, descending score, ties by image then rank (accumulate's order). */
  order(k: number): Int32Array {
    this.orders ??= this.catIds.map((_, c) => sortedKept(this.matches, c));
    return this.orders[k];
  }

  /**
   * How many of order(k) reach the last detection that is a true positive at some IoU threshold in
   * area range `a`: the detections after it change no precision at a recall threshold (they come
   * after every true positive), so the area-`a` accumulation may stop there.
   */
  usefulLength(k: number, a: number): number {
    const key = k * A + a;
    let n = this.useful.get(key);
    if (n === undefined) {
      const o = this.order(k),
        { tpMask, keptScore } = this.matches;
      n = 0;
      for (let j = o.length - 1; j >= 0; j--)
        if (tpMask[o[j] * A + a] !== 0) {
          n = j + 1;
          break;
        }
      // Keep the whole run of equal scores: resampled copies of one image interleave inside it.
      while (n > 0 && n < o.length && keptScore[o[n]] === keptScore[o[n - 1]]) n++;
      this.useful.set(key, n);
    }
    return n;
  }

  /** Image index (into imgIds) of each kept detection. */
  imageOfKept(): Int32Array {
    if (!this.imageOf) {
      const I = this.imgIds.length;
      const { cellKept } = this.matches;
      const out = new Int32Array(cellKept[cellKept.length - 1]);
      for (let c = 0; c < cellKept.length - 1; c++) out.fill(c % I, cellKept[c], cellKept[c + 1]);
      this.imageOf = out;
    }
    return this.imageOf;
  }

  /** Left out of JSON (reports, --json files): it is for computing, not for reading. */
  toJSON(): undefined {
    return undefined;
  }
}
