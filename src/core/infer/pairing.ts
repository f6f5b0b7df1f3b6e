// A PyTorch checkpoint has no graph to run: it is paired with an ONNX export of the same model.
// The pair is checked layer by layer (names where both carry them, else order) on weight shapes,
// and a mismatch is an error that says which layers differ.
import { QatLensError } from '../errors';
import { readCheckpoint } from '../readers/index';

const CHECKPOINT_EXT = /\.(pt|pth|ckpt|safetensors)$/i;

export interface PairedModel {
  onnx: string;
  checkpoint?: string;
  /** Set when the pair could not be compared (the model still runs). */
  note?: string;
}

function norm(name: string): string {
  return name.replace(/\.weight$/, '').replace(/^(module\.|model\.(?=model\.))/, '');
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
  const mismatch = compareLayers(a.map((l) => ({ name: norm(l.name), shape: l.weight.shape })), b.map((l) => ({ name: norm(l.name), shape: l.weight.shape })));
  if (mismatch) throw new QatLensError(`the checkpoint and the ONNX export ${onnxFile} are not the same model: ${mismatch}`, model, 'EPAIR');
  return { onnx: onnxFile, checkpoint: model };
}

/** A description of the first differences, or undefined when the layers agree. */
export function compareLayers(a: { name: string; shape: number[] }[], b: { name: string; shape: number[] }[]): string | undefined {
  const s = (x: number[]) => `[${x.join(', ')}]`;
  const bn = new Map(b.map((l) => [l.name, l]));
  const common = a.filter((l) => bn.has(l.name));
  if (common.length >= Math.max(1, Math.min(a.length, b.length) / 2)) {
    const diffs: string[] = [];
    for (const l of a) {
      const o = bn.get(l.name);
      if (!o) diffs.push(`layer ${l.name} is missing from the ONNX export`);
      else if (s(o.shape) !== s(l.shape)) diffs.push(`layer ${l.name} has shape ${s(l.shape)} in the checkpoint but ${s(o.shape)} in the ONNX export`);
    }
    const an = new Set(a.map((l) => l.name));
    for (const l of b) if (!an.has(l.name)) diffs.push(`ONNX layer ${l.name} is not in the checkpoint`);
    return diffs.length ? `${diffs.slice(0, 5).join('; ')}${diffs.length > 5 ? `; and ${diffs.length - 5} more` : ''}` : undefined;
  }
  if (a.length !== b.length) return `the checkpoint has ${a.length} quantized layers, the ONNX export ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (s(a[i].shape) !== s(b[i].shape)) return `layer ${i + 1} (${a[i].name} / ${b[i].name}) has shape ${s(a[i].shape)} in the checkpoint but ${s(b[i].shape)} in the ONNX export`;
  }
  return undefined;
}
