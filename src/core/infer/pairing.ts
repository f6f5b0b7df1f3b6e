// A PyTorch checkpoint has no graph to run: it is paired with an ONNX export of the same model.
// The pair is checked layer by layer (names where both carry them, else order) on weight shapes,
// and a mismatch is an error that says which layers differ.
import { QatLensError } from '../errors';
import type { QuantizedLayer } from '../model';
import { readCheckpoint } from '../readers/index';

const CHECKPOINT_EXT = /\.(pt|pth|ckpt|safetensors)$/i;

export interface PairedModel {
  onnx: string;
  checkpoint?: string;
  /** Set when the pair could not be compared (the model still runs). */
  note?: string;
}

/** Layer name without the weight suffix exporters add ("conv.weight", "conv.weight_int", ...). */
function norm(name: string): string {
  return name.replace(/[._](weight|weight_int|weight_q|weight_quantized|w_q|qweight)$/, '').replace(/^(module\.|model\.(?=model\.))/, '');
}

/** Bit-width where the file states it (an int8 container of 4-bit values says nothing). */
function bitsOf(l: QuantizedLayer): number | undefined {
  const src = l.weightQuantizer.bitsSource;
  return src === 'range' || src === 'clip' || src === 'attribute' ? l.weightQuantizer.bits : undefined;
}

export async function resolvePairedModel(model: string, onnxFile?: string): Promise<PairedModel> {
  if (!CHECKPOINT_EXT.test(model)) {
    if (onnxFile) throw new QatLensError('--onnx pairs an ONNX export with a PyTorch checkpoint; the model given is not a checkpoint', model, 'EUSAGE');
    return { onnx: model };
  }
  if (!onnxFile) throw new QatLensError('a PyTorch checkpoint has no graph to run: give its ONNX export with --onnx FILE (VS Code remembers the choice)', model, 'ENOONNX');
  let pt, ox;
  try {
    [pt, ox] = await Promise.all([readCheckpoint(model), readCheckpoint(onnxFile)]);
  } catch (err) {
    return { onnx: onnxFile, checkpoint: model, note: `could not compare the checkpoint with its ONNX export (${(err as Error).message}); scoring the ONNX model` };
  }
  const a = pt.variants[pt.variants.length - 1]?.layers ?? []; // ema where there is one (YOLOv5 exports the EMA)
  const b = ox.variants[0]?.layers ?? [];
  const mismatch = compareLayers(
    a.map((l) => ({ name: norm(l.name), shape: l.weight.shape, bits: bitsOf(l) })),
    b.map((l) => ({ name: norm(l.name), shape: l.weight.shape, bits: bitsOf(l) })),
  );
  if (mismatch) throw new QatLensError(`the checkpoint and the ONNX export ${onnxFile} are not the same model: ${mismatch}`, model, 'EPAIR');
  // Integer weights stored in a wider container (int8 holding 4-bit values) must fit the
  // checkpoint's range: a 3-bit checkpoint paired with a 4-bit export is caught here.
  const byName = new Map(b.map((l) => [norm(l.name), l]));
  for (const l of a) {
    const o = byName.get(norm(l.name));
    const q = l.weightQuantizer;
    if (!o?.weight.integer || bitsOf(l) === undefined) continue;
    let lo = Infinity,
      hi = -Infinity;
    for (const v of o.weight.integer) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo < q.qmin || hi > q.qmax) {
      throw new QatLensError(
        `the checkpoint and the ONNX export ${onnxFile} are not the same model: layer ${norm(l.name)} is ${q.bits}-bit (${q.qmin}..${q.qmax}) in the checkpoint but its ONNX integer weights span ${lo}..${hi}`,
        model,
        'EPAIR',
      );
    }
  }
  return { onnx: onnxFile, checkpoint: model };
}

/** A description of the first differences, or undefined when the layers agree. */
export function compareLayers(a: { name: string; shape: number[]; bits?: number }[], b: { name: string; shape: number[]; bits?: number }[]): string | undefined {
  const s = (x: number[]) => `[${x.join(', ')}]`;
  const bn = new Map(b.map((l) => [l.name, l]));
  const common = a.filter((l) => bn.has(l.name));
  if (common.length >= Math.max(1, Math.min(a.length, b.length) / 2)) {
    const diffs: string[] = [];
    for (const l of a) {
      const o = bn.get(l.name);
      if (!o) diffs.push(`layer ${l.name} is missing from the ONNX export`);
      else if (s(o.shape) !== s(l.shape)) diffs.push(`layer ${l.name} has shape ${s(l.shape)} in the checkpoint but ${s(o.shape)} in the ONNX export`);
      else if (l.bits !== undefined && o.bits !== undefined && l.bits !== o.bits) diffs.push(`layer ${l.name} is ${l.bits}-bit in the checkpoint but ${o.bits}-bit in the ONNX export`);
    }
    const an = new Set(a.map((l) => l.name));
    for (const l of b) if (!an.has(l.name)) diffs.push(`ONNX layer ${l.name} is not in the checkpoint`);
    return diffs.length ? `${diffs.slice(0, 5).join('; ')}${diffs.length > 5 ? `; and ${diffs.length - 5} more` : ''}` : undefined;
  }
  // No common names: compare the shapes as multisets (graph order need not be state_dict order).
  if (a.length !== b.length) return `the checkpoint has ${a.length} quantized layers, the ONNX export ${b.length}`;
  const count = (xs: { shape: number[] }[]) => xs.reduce((m, l) => m.set(s(l.shape), (m.get(s(l.shape)) ?? 0) + 1), new Map<string, number>());
  const ca = count(a),
    cb = count(b);
  for (const [shape, n] of ca) {
    if ((cb.get(shape) ?? 0) !== n) return `the checkpoint has ${n} layer(s) of shape ${shape} (e.g. ${a.find((l) => s(l.shape) === shape)!.name}), the ONNX export ${cb.get(shape) ?? 0}`;
  }
  return undefined;
}
