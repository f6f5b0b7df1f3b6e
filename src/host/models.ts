// Finding the models a comparison needs beside the one the user clicked: the float export and the
// latest QC output. Pure (file listing passed in).
import * as path from 'node:path';

const list = (dir: string, ls: (d: string) => string[]): string[] => {
  try {
    return ls(dir).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
};

/** A float ONNX in the model's folder or its parent: names with "float", "fp32" or "fp16". */
export function findFloatModel(qat: string, ls: (d: string) => string[]): string | undefined {
  const dir = path.dirname(qat);
  for (const d of [dir, path.dirname(dir)]) {
    const hit = list(d, ls)
      .filter((f) => f !== qat && f.toLowerCase().endsWith('.onnx') && /(^|[^a-z])(float|fp32|fp16)([^a-z]|$)/i.test(path.basename(f)))
      .sort()[0];
    if (hit) return hit;
  }
  return undefined;
}

/** The newest QC output of `qat` (qdq.qc.onnx, qdq.qc-2.onnx, ...): the highest number. */
export function findCorrected(qat: string, ls: (d: string) => string[]): string | undefined {
  const stem = path.basename(qat, path.extname(qat));
  const re = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.qc(?:-(\\d+))?\\.onnx$`);
  let best: { n: number; f: string } | undefined;
  for (const f of list(path.dirname(qat), ls)) {
    const m = re.exec(path.basename(f));
    if (m) {
      const n = m[1] ? Number(m[1]) : 1;
      if (!best || n > best.n) best = { n, f };
    }
  }
  return best?.f;
}
