// What a command was invoked on. Explorer right-click passes (clicked, allSelected); the palette
// passes nothing; a keybinding may pass anything. Pure, so it is tested without VS Code.
import * as path from 'node:path';

export const CHECKPOINT_EXTS = ['.onnx', '.pt', '.pth', '.ckpt', '.safetensors'];

interface HasFsPath {
  fsPath: string;
}
const isUri = (u: unknown): u is HasFsPath => typeof u === 'object' && u !== null && typeof (u as HasFsPath).fsPath === 'string';

/** The selected files (all of a multi-selection, else the clicked one), deduplicated, in selection order. */
export function selectedFiles(clicked: unknown, all: unknown): string[] {
  const list = Array.isArray(all) && all.some(isUri) ? all.filter(isUri) : isUri(clicked) ? [clicked] : [];
  return [...new Set(list.map((u) => u.fsPath))];
}

export const isCheckpoint = (file: string): boolean => CHECKPOINT_EXTS.includes(path.extname(file).toLowerCase());
export const isOnnx = (file: string): boolean => path.extname(file).toLowerCase() === '.onnx';

/** Where a corrected model is written: beside the input, never over it, never over an earlier result. */
export function correctedPath(model: string, exists: (p: string) => boolean): string {
  return besidePath(model, 'qc', exists);
}

/** `STEM.TAG.onnx` beside the model (then `STEM.TAG-2.onnx`, ...): never over the input or an earlier output. */
export function besidePath(model: string, tag: string, exists: (p: string) => boolean): string {
  const dir = path.dirname(model);
  const stem = path.basename(model, path.extname(model));
  for (let i = 0; ; i++) {
    const p = path.join(dir, `${stem}.${tag}${i ? `-${i + 1}` : ''}.onnx`);
    if (!exists(p)) return p;
  }
}

/** PyTorch checkpoints beside a model (latent weights for an integer-only ONNX), last epoch first. */
export function checkpointCandidates(model: string, list: (dir: string) => string[]): string[] {
  const dir = path.dirname(model);
  let names: string[] = [];
  try {
    names = list(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => isCheckpoint(n) && !isOnnx(n))
    .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))
    .map((n) => path.join(dir, n));
}

/**
 * ONNX files that plausibly pair with a PyTorch checkpoint: in the same folder or its parent,
 * same stem first, then any; QC files (outputs of earlier runs) last.
 */
export function onnxCandidates(checkpoint: string, list: (dir: string) => string[]): string[] {
  const dir = path.dirname(checkpoint);
  const stem = path.basename(checkpoint, path.extname(checkpoint));
  const found: string[] = [];
  for (const d of [dir, path.dirname(dir)]) {
    let names: string[] = [];
    try {
      names = list(d);
    } catch {
      continue;
    }
    for (const n of names) if (isOnnx(n)) found.push(path.join(d, n));
  }
  const rank = (p: string): number => {
    const b = path.basename(p, '.onnx');
    if (b === stem) return 0;
    if (/\.qc(-\d+)?$/.test(b)) return 3;
    if (/qdq|quant|int/i.test(b)) return 1;
    return 2;
  };
  return [...new Set(found)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
