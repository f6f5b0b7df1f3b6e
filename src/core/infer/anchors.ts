// Anchors from outside the graph, for exports without a decode (and to check one that has it):
// `--anchors` / the qatLens.anchors setting (a list "W,H,W,H,.../W,H,.../..." in pixels, one group
// per scale, smallest stride first, or a model yaml), the data set's yaml, the paired PyTorch
// checkpoint (YOLOv5/v7 pickles hold Detect's `anchors`, in grid units, and `stride`), and last the
// ONNX metadata_props "anchors". The first that is given wins; the report names it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FormatError, QatLensError } from '../errors';
import { parseYaml, type YamlValue } from '../data/yamlFile';
import type { onnx } from '../onnx/proto';
import { readPytorchModules } from '../readers/pytorch';
import type { GivenAnchors } from './detectHead';

export interface AnchorSources {
  /** `--anchors` on the command line: a list or a yaml path. */
  flag?: string;
  /** The qatLens.anchors setting: a list or a yaml path. */
  setting?: string;
  /** The data set (`--data`): its yaml's `anchors:` where it has one. */
  data?: string;
  /** The PyTorch checkpoint the ONNX export stands for. */
  checkpoint?: string;
  /** The ONNX model itself: metadata_props "anchors" (JSON, pixels per scale). */
  model?: onnx.IModelProto;
}

const isYaml = (p: string) => /\.ya?ml$/i.test(p);

/** "10,13,16,30,33,23/30,61,62,45,59,119/116,90,156,198,373,326" -> [[10,13,...], ...]. */
export function parseAnchorList(spec: string, what: string): number[][] {
  const groups = spec
    .trim()
    .split('/')
    .map((g) => g.trim());
  const out = groups.map((g) =>
    g
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number),
  );
  if (!groups.length || out.some((g) => !g.length || g.length % 2 || g.some((v) => !Number.isFinite(v) || v <= 0))) {
    throw new QatLensError(
      `${what} must be W,H,W,H,.../W,H,.../... (positive pixel sizes, an even count per scale, scales separated by /, smallest stride first) or a yaml file with anchors:; got "${spec}"`,
      undefined,
      'EANCHORS',
    );
  }
  return out;
}

/** `anchors:` of a YOLO model or data yaml: a list of per-scale lists (or "w,h, w,h" strings). */
export function anchorsOfYamlValue(v: YamlValue | undefined, file: string): number[][] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') throw new FormatError(`anchors: ${v} is a count (YOLOv5's autoanchor computes them at training time), not anchor sizes: give the sizes the model trained with`, file);
  if (!Array.isArray(v) || !v.length) throw new FormatError('anchors: must be a list of per-scale lists of pixel sizes', file);
  const groups = v.map((g) =>
    Array.isArray(g)
      ? g.map(Number)
      : String(g)
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number),
  );
  if (groups.some((g) => !g.length || g.length % 2 || g.some((x) => !Number.isFinite(x) || x <= 0)))
    throw new FormatError('anchors: must be per-scale lists of positive pixel sizes (w, h pairs)', file);
  return groups;
}

export function anchorsFromYaml(file: string): number[][] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new QatLensError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, 'EREAD');
  }
  const y = parseYaml(text, file);
  return y && typeof y === 'object' && !Array.isArray(y) ? anchorsOfYamlValue(y.anchors, file) : undefined;
}

/** Detect's anchors (grid units) × stride, from a YOLOv5/YOLOv7 whole-module pickle. */
export function anchorsFromCheckpoint(file: string): number[][] | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new QatLensError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, 'EREAD');
  }
  for (const { flat } of readPytorchModules(file, bytes)) {
    for (const [name, t] of flat.tensors) {
      if (!/(^|\.)anchors$/.test(name) || t.shape.length !== 3 || t.shape[2] !== 2) continue;
      const prefix = name.slice(0, -'anchors'.length);
      const st = flat.tensors.get(`${prefix}stride`);
      const [nl, na] = t.shape;
      if (!st || st.shape.reduce((a, b) => a * b, 1) !== nl) continue;
      const a = t.toFloat64(),
        s = st.toFloat64();
      return Array.from({ length: nl }, (_, i) => Array.from({ length: 2 * na }, (_, j) => Math.round(a[i * 2 * na + j] * s[i] * 1e4) / 1e4));
    }
  }
  return undefined;
}

function fromSpec(spec: string, what: string): number[][] {
  if (isYaml(spec) || (existsSync(spec) && statSync(spec).isFile())) {
    const a = anchorsFromYaml(spec);
    if (!a) throw new FormatError(`no anchors: entry (named by ${what})`, spec);
    return a;
  }
  return parseAnchorList(spec, what);
}

/** The data set's yaml: `--data` itself, or data.yaml in the folder it names. */
function dataYaml(data: string): string | undefined {
  if (isYaml(data)) return data;
  try {
    if (statSync(data).isDirectory() && existsSync(join(data, 'data.yaml'))) return join(data, 'data.yaml');
  } catch {
    /* no such path: the data set reader reports it */
  }
  return undefined;
}

/** The first source that gives anchors, with its name for the report; undefined when none does. */
export function givenAnchors(src: AnchorSources): GivenAnchors | undefined {
  const file = (spec: string) => (isYaml(spec) || existsSync(spec) ? ` (${spec})` : '');
  if (src.flag?.trim()) return { anchors: fromSpec(src.flag, '--anchors'), source: `--anchors${file(src.flag)}` };
  if (src.setting?.trim()) return { anchors: fromSpec(src.setting, 'the qatLens.anchors setting'), source: `the qatLens.anchors setting${file(src.setting)}` };
  const y = src.data ? dataYaml(src.data) : undefined;
  const fromData = y ? anchorsFromYaml(y) : undefined;
  if (fromData) return { anchors: fromData, source: `anchors: in ${y}` };
  if (src.checkpoint && extname(src.checkpoint).toLowerCase() !== '.onnx') {
    const a = anchorsFromCheckpoint(src.checkpoint);
    if (a) return { anchors: a, source: `the Detect module of ${src.checkpoint}` };
  }
  const meta = src.model?.metadataProps?.find((p) => p.key === 'anchors')?.value;
  if (meta) {
    try {
      const a = anchorsOfYamlValue(JSON.parse(meta) as YamlValue, 'metadata_props "anchors"');
      if (a) return { anchors: a, source: 'metadata_props "anchors" of the model' };
    } catch {
      /* not JSON: ignored, as any unknown metadata */
    }
  }
  return undefined;
}
