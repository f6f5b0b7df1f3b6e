// Kernels the tfjs wasm backend lacks but QC's backward pass needs, written in JS on the wasm heap:
// UnsortedSegmentSum (the gradient of Gather, which the loss uses to pick matched cells).
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  readSync(id: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

let done = false;

export function registerWasmExtras(): void {
  if (done) return;
  done = true;
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
        const numSegments = (attrs as { numSegments: number }).numSegments;
        const b = backend as unknown as WasmBackendLike;
        const xv = b.readSync(x.dataId), ids = b.readSync(segmentIds.dataId);
        const inner = x.shape.slice(segmentIds.shape.length).reduce((p, q) => p * q, 1);
        const out = b.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
        const ov = b.typedArrayFromHeap(out);
        ov.fill(0);
        for (let i = 0; i < ids.length; i++) {
          const s = ids[i];
          if (s < 0 || s >= numSegments) continue;
          for (let k = 0; k < inner; k++) ov[s * inner + k] += xv[i * inner + k];
        }
        return out;
      },
    });
  }
}
