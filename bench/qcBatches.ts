// The batches of a QC run written to disk for the PyTorch baseline (tools/example/qc_pytorch.py), so both
// sides train on the same letterboxed pixels and labels: PREFIX.f32 (steps x batch x 3 x H x W float32)
// and PREFIX.json ({ batch, size, steps, targets: per step [image, cls, cx, cy, w, h] rows }).
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { batchSchedule, type CalibSource } from '../src/core/qc/train';

export async function writeBatches(src: CalibSource, batch: number, steps: number, prefix: string, seed = 0): Promise<void> {
  const next = batchSchedule(src.count, batch, seed);
  const targets: number[][][] = [];
  const fd = openSync(`${prefix}.f32`, 'w');
  try {
    for (let s = 0; s < steps; s++) {
      const b = await src.batch(next());
      writeSync(fd, new Uint8Array(b.images.buffer, b.images.byteOffset, b.images.byteLength));
      targets.push(b.targets.map((t) => [...t]));
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(`${prefix}.json`, JSON.stringify({ batch, size: src.size, steps, targets }));
}
