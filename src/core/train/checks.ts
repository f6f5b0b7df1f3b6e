// What the gradient engines (single.ts, shards.ts) check of a call's arrays before any run, so both
// refuse the same input with the same words; and how both tell a kept forward's images again.
import { QatLensError } from '../errors';

/** A head of the engine: its value name and its shape per image, [C, ny, nx]. */
export interface HeadShape {
  name: string;
  dims: number[];
}

export function checkImages(file: string, images: Float32Array, batch: number, [h, w]: [number, number]): void {
  if (images.length !== batch * 3 * h * w) throw new QatLensError(`expected ${batch} x 3 x ${h} x ${w} image values, got ${images.length}`, file, 'EINPUT');
}

export function checkDHeads(file: string, heads: HeadShape[], batch: number, dHeads: Float32Array[]): void {
  heads.forEach(({ name, dims }, i) => {
    if (dHeads[i]?.length !== batch * dims.reduce((a, c) => a * c, 1)) throw new QatLensError(`dHeads[${i}] for '${name}' must have ${[batch, ...dims].join(' x ')} values`, file, 'EINPUT');
  });
}

/** The same memory (not merely equal values): how a backward finds the kept forward of its images. */
export const sameMemory = (a: Float32Array, c: Float32Array): boolean => a.buffer === c.buffer && a.byteOffset === c.byteOffset && a.length === c.length;
