// Kernels the tfjs wasm backend lacks but QC's backward pass needs, written in JS on the wasm heap:
// UnsortedSegmentSum (the gradient of Gather, which the loss uses to pick matched cells). And an
// Identity that shares its input's memory, as the cpu and webgpu backends' do: wasm's copies it,
// and tfjs clones every tensor a gradient saves (about 2,100 copies per QC step, a quarter of it).
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  incRef(id: unknown): void;
  readSync(id: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

let done = false;

export function registerWasmExtras(): void {
  if (done) return;
  done = true;
  // Safe because tfjs kernels never write into their inputs; a variable's assign swaps its dataId.
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') throw new Error('Identity of strings is not needed by QC');
      (backend as unknown as WasmBackendLike).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
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
