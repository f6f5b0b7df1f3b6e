// What the pipeline needs to know about a detection model, read from its ONNX graph: the image
// input (name, batch and spatial dims), the detection output, class names from metadata_props
// (YOLOv5 exports write names as a Python dict literal, others as JSON or YAML-ish lists).
import { decodeModel, onnx, toNumber } from '../onnx/proto';
import { QatLensError } from '../errors';
import { hasQdq } from './qdqToFloat';

export interface DetectorInfo {
  input: string;
  /** null where the dim is symbolic (dynamic). */
  batch: number | null;
  height: number | null;
  width: number | null;
  output: string;
  outputDims: (number | null)[];
  names?: string[];
  stride?: number;
  /** Input size from metadata ("imgsz": "[640, 640]" or "640"), for models with dynamic H/W. */
  imgsz?: [number, number];
  qdq: boolean;
}

function dimsOf(v: onnx.IValueInfoProto): (number | null)[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimValue != null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : null));
}

/** Class names from a metadata value: "{0: 'a', 1: 'b'}", '["a","b"]', "[a, b]". */
export function parseNames(v: string): string[] | undefined {
  const t = v.trim();
  try {
    const j = JSON.parse(t);
    if (Array.isArray(j)) return j.map(String);
    if (j && typeof j === 'object')
      return Object.keys(j)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => String(j[k]));
  } catch {
    /* not JSON */
  }
  const dict = [...t.matchAll(/(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g)];
  if (dict.length) return dict.sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => m[2] ?? m[3]);
  if (t.startsWith('[') && t.endsWith(']'))
    return t
      .slice(1, -1)
      .split(',')
      .map((s) => s.trim().replace(/^['"]|['"]$/g, ''))
      .filter(Boolean);
  return undefined;
}

export function detectorInfo(model: onnx.IModelProto, file = '<onnx>'): DetectorInfo {
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((i) => !inits.has(i.name));
  const img = inputs.find((i) => dimsOf(i).length === 4);
  if (!img) throw new QatLensError(`no image input of shape [batch, 3, height, width] (inputs: ${inputs.map((i) => `${i.name} [${dimsOf(i).join(', ')}]`).join('; ')})`, file);
  const d = dimsOf(img);
  if (d[1] !== null && d[1] !== 3) throw new QatLensError(`image input '${img.name}' has ${d[1]} channels; expected 3 (RGB)`, file);
  const outs = g.output ?? [];
  const det = outs.find((o) => dimsOf(o).length === 3) ?? outs[0];
  if (!det) throw new QatLensError('model has no outputs', file);
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const names = meta.has('names') ? parseNames(meta.get('names')!) : undefined;
  const stride = meta.has('stride') ? Number(/\d+/.exec(meta.get('stride')!)?.[0]) : undefined;
  const sz = meta.has('imgsz') ? [...meta.get('imgsz')!.matchAll(/\d+/g)].map((m) => Number(m[0])) : [];
  const imgsz: [number, number] | undefined = sz.length ? [sz[0], sz[1] ?? sz[0]] : undefined;
  return { input: img.name!, batch: d[0], height: d[2], width: d[3], output: det.name!, outputDims: dimsOf(det), names, stride: stride || undefined, imgsz, qdq: hasQdq(model) };
}

export function decodeDetector(bytes: Uint8Array, file: string): { proto: onnx.ModelProto; info: DetectorInfo } {
  const proto = decodeModel(bytes, file);
  return { proto, info: detectorInfo(proto, file) };
}
