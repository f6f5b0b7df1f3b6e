// Worker thread of the shapes generator (dataset.ts): draws and encodes the images it is asked for,
// so every core draws. Bundled on its own as dist/shapesWorker.js; run from source under tsx.
import { parentPort } from 'node:worker_threads';
import { makeShapesImage, type ShapeBox, type ShapesSplit } from './generate';

/** One image to make; `key` comes back with the answer. */
export interface ShapesJob {
  split: ShapesSplit;
  index: number;
  seed: number;
  key: string;
}
export type ShapesDone = { key: string; jpeg: Uint8Array; boxes: ShapeBox[]; error?: undefined } | { key: string; error: string };

parentPort?.on('message', (job: ShapesJob) => {
  makeShapesImage(job.split, job.index, job.seed).then(
    ({ jpeg, boxes }) => {
      const bytes = new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength).slice();
      parentPort!.postMessage({ key: job.key, jpeg: bytes, boxes } satisfies ShapesDone, [bytes.buffer]);
    },
    (err: unknown) => parentPort!.postMessage({ key: job.key, error: String((err as Error)?.message ?? err) } satisfies ShapesDone),
  );
});
