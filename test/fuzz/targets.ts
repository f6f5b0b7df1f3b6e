// Fuzz targets: for each reader, how to make one input (mutation of a real seed file, or generation
// from the format's grammar) into a case folder, and what the case runs. A case folder holds
// case.json ({ target, ... }), model/ or data/ with the inputs, canary.bin outside them (what an
// escaping reader would read), and out/ for the outputs a refusal must not write.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { onnx } from '../../src/core/onnx/proto';
import { P, pickle, tensorV2, torchZip } from '../helpers/pickleAsm';
import { safetensorsFile } from '../helpers/hostileFiles';
import { INTERESTING, Rng, deepJsonText, mutateBytes, randomJson } from './mutate';

const ROOT = join(__dirname, '..', '..');
const READERS = join(ROOT, 'test', 'fixtures', 'readers');
const IMAGES = join(ROOT, 'examples', 'shapes', 'images', 'val');
export const CANARY = 'QAT-LENS-CANARY-must-never-be-read';

export type TargetName = 'onnx' | 'pt' | 'pt-legacy' | 'safetensors' | 'coco-gt' | 'coco-dt' | 'yolo-labels' | 'data-yaml';
export const TARGETS: TargetName[] = ['onnx', 'pt', 'pt-legacy', 'safetensors', 'coco-gt', 'coco-dt', 'yolo-labels', 'data-yaml'];

export interface CaseSpec {
  target: TargetName;
  /** analyze: the --bits given (or none). */
  bits?: number;
  /** How the input was made, for the report. */
  how: string;
}

const seedCache = new Map<string, Uint8Array[]>();
function seeds(ext: string, filter: (n: string) => boolean = () => true): Uint8Array[] {
  const key = ext + filter.toString();
  if (!seedCache.has(key)) {
    seedCache.set(
      key,
      readdirSync(READERS)
        .filter((n) => n.endsWith(ext) && filter(n))
        .sort()
        .map((n) => Uint8Array.from(readFileSync(join(READERS, n)))),
    );
  }
  return seedCache.get(key)!;
}

const HOSTILE_LOCATIONS = (caseDir: string) => [
  '../canary.bin',
  join(caseDir, 'canary.bin'),
  'link-out.bin',
  'dir-out/canary.bin',
  'w.bin',
  'sub/../w.bin',
  '..',
  '.',
  '',
  'C:\\canary.bin',
  'w.bin\u0000x',
  '../model/w.bin',
  'missing.bin',
];
const HOSTILE_NUMBERS = ['-1', 'NaN', '0', '1', '7', '99999999999', '8589934592', '1e3', '0x10', ' 4', '18446744073709551616', ''];

/** Writes one case into `dir` (made empty by the caller) and returns its spec. */
export function makeCase(target: TargetName, rng: Rng, dir: string): CaseSpec {
  mkdirSync(join(dir, 'out'), { recursive: true });
  writeFileSync(join(dir, 'canary.bin'), Buffer.from(CANARY.repeat(64)));
  let spec: CaseSpec;
  switch (target) {
    case 'onnx':
      spec = onnxCase(rng, dir);
      break;
    case 'pt':
      spec = ptCase(rng, dir);
      break;
    case 'pt-legacy':
      spec = legacyCase(rng, dir);
      break;
    case 'safetensors':
      spec = safetensorsCase(rng, dir);
      break;
    case 'coco-gt':
    case 'coco-dt':
      spec = cocoCase(target, rng, dir);
      break;
    case 'yolo-labels':
      spec = yoloCase(rng, dir, false);
      break;
    case 'data-yaml':
      spec = yoloCase(rng, dir, true);
      break;
  }
  writeFileSync(join(dir, 'case.json'), JSON.stringify(spec));
  return spec;
}

/** model/ with the usual neighbours of a model: a weight file, a sub-folder, links in and out. */
function modelDir(dir: string): string {
  const m = join(dir, 'model');
  mkdirSync(join(m, 'sub'), { recursive: true });
  writeFileSync(join(m, 'w.bin'), Buffer.alloc(4096, 3));
  writeFileSync(join(m, 'sub', 'w.bin'), Buffer.alloc(64, 1));
  symlinkSync('../canary.bin', join(m, 'link-out.bin'));
  symlinkSync('..', join(m, 'dir-out'));
  symlinkSync('w.bin', join(m, 'link-in.bin'));
  return m;
}
const bits = (rng: Rng) => (rng.chance(0.7) ? rng.pick([2, 3, 4, 8]) : undefined);

function onnxCase(rng: Rng, dir: string): CaseSpec {
  const m = modelDir(dir);
  const all = seeds('.onnx');
  const seed = rng.pick(all);
  let bytes: Uint8Array;
  let how: string;
  if (rng.chance(0.5)) {
    how = 'onnx: structure mutation';
    const model = onnx.ModelProto.decode(seed);
    const inits = model.graph?.initializer ?? [];
    for (let k = rng.range(1, 3); k > 0 && inits.length; k--) {
      const t = rng.pick(inits);
      switch (rng.int(6)) {
        case 0:
          t.dims = Array.from({ length: rng.range(0, 5) }, () => (rng.chance(0.5) ? rng.pick(INTERESTING) : rng.range(0, 9)));
          break;
        case 1:
          t.dataType = rng.range(0, 25);
          break;
        case 2:
          if (t.rawData?.length) t.rawData = t.rawData.subarray(0, rng.int(t.rawData.length));
          break;
        case 3:
        case 4: {
          t.rawData = new Uint8Array(0);
          t.dataLocation = 1;
          t.externalData = [
            onnx.StringStringEntryProto.create({ key: 'location', value: rng.pick(HOSTILE_LOCATIONS(dir)) }),
            ...(rng.chance(0.5) ? [onnx.StringStringEntryProto.create({ key: 'offset', value: rng.pick(HOSTILE_NUMBERS) })] : []),
            ...(rng.chance(0.5) ? [onnx.StringStringEntryProto.create({ key: 'length', value: rng.pick(HOSTILE_NUMBERS) })] : []),
          ];
          break;
        }
        case 5:
          t.floatData = Array.from({ length: rng.range(0, 5) }, () => rng.next());
          t.rawData = new Uint8Array(0);
          break;
      }
    }
    for (const n of model.graph?.node ?? []) {
      if (rng.chance(0.1)) n.opType = rng.pick(['Conv', 'DequantizeLinear', 'QuantizeLinear', 'Clip', 'Identity', 'Gemm', 'MatMul', 'Loop']);
      if (rng.chance(0.1) && n.input?.length) n.input[rng.int(n.input.length)] = rng.pick([...(model.graph?.initializer ?? []).map((i) => i.name ?? ''), 'x', '']);
      for (const a of n.attribute ?? []) if (rng.chance(0.2)) a.i = rng.pick(INTERESTING);
    }
    if (rng.chance(0.05)) model.graph = null;
    bytes = onnx.ModelProto.encode(model).finish();
  } else {
    how = 'onnx: byte mutation';
    bytes = mutateBytes(rng, seed, rng.pick(all));
  }
  writeFileSync(join(m, rng.chance(0.8) ? 'model.onnx' : 'model.bin'), bytes);
  return { target: 'onnx', bits: bits(rng), how };
}

const GLOBALS: [string, string][] = [
  ['collections', 'OrderedDict'],
  ['torch._utils', '_rebuild_tensor_v2'],
  ['torch._utils', '_rebuild_parameter'],
  ['torch', 'FloatStorage'],
  ['builtins', 'set'],
  ['copyreg', '_reconstructor'],
  ['builtins', 'object'],
  ['models.yolo', 'Detect'],
  ['torch.nn.modules.conv', 'Conv2d'],
  ['numpy.core.multiarray', 'scalar'],
  ['numpy', 'dtype'],
  ['pydoc', 'pipepager'],
  ['somepkg', 'run'],
  ['posix', 'system'],
  ['torch', 'Size'],
  ['argparse', 'Namespace'],
  ['_codecs', 'encode'],
  ['torch._tensor', '_rebuild_from_type_v2'],
];

/** A random but mostly well-formed pickle program: values, containers, calls, memo, tensors. */
function randomPickle(rng: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  let memo = 0;
  const leaf = (): Uint8Array => {
    switch (rng.int(9)) {
      case 0:
        return P.int(rng.pick(INTERESTING) | 0);
      case 1:
        return P.str(rng.pick(['conv.weight', 'conv.quan_w_fn.s', 'model', 'ema', 'epoch', '_modules', '_parameters', 'x']));
      case 2:
        return P.NONE;
      case 3:
        return P.global(...rng.pick(GLOBALS));
      case 4:
        return memo ? P.get(rng.int(memo + 2)) : P.emptyTuple;
      case 5:
        return P.long4(rng.bytes(rng.range(0, 40)));
      case 6: {
        const shape = Array.from({ length: rng.range(0, 4) }, () => (rng.chance(0.3) ? rng.pick(INTERESTING) | 0 : rng.range(0, 6)));
        return tensorV2(
          String(rng.int(3)),
          rng.pick([0, 1, 18, 1000]),
          shape,
          shape.map(() => rng.pick([0, 1, 3, -1, 1000])),
          rng.pick([0, 1, -1, 7]),
        );
      }
      case 7:
        return P.bytes(rng.bytes(rng.range(0, 16)));
      default:
        return P.emptyDict;
    }
  };
  const ops = [P.MARK, P.TUPLE, P.TUPLE1, P.TUPLE2, P.LIST, P.APPEND, P.APPENDS, P.SETITEM, P.SETITEMS, P.REDUCE, P.NEWOBJ, P.BUILD, P.emptyList, P.emptyDict, P.POP, Uint8Array.of(0x32)];
  for (let i = rng.range(1, 60); i > 0; i--) {
    if (rng.chance(0.55)) parts.push(leaf());
    else if (rng.chance(0.2)) {
      parts.push(P.put(memo));
      memo++;
    } else parts.push(rng.pick(ops));
  }
  return pickle(...parts);
}

function ptCase(rng: Rng, dir: string): CaseSpec {
  const m = modelDir(dir);
  const all = seeds('.pt', (n) => !n.includes('legacy') && !n.startsWith('bad_random'));
  let bytes: Uint8Array;
  let how: string;
  const r = rng.int(3);
  if (r === 0) {
    how = 'pt: generated pickle';
    const storages: Record<string, Uint8Array> = {};
    for (let k = 0; k < 3; k++) if (rng.chance(0.7)) storages[String(k)] = rng.bytes(rng.pick([0, 4, 72, 4000]));
    bytes = torchZip(randomPickle(rng), storages);
  } else if (r === 1) {
    how = 'pt: data.pkl mutation';
    const seed = rng.pick(all);
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(seed);
    } catch {
      entries = {};
    }
    const pkl = Object.keys(entries).find((n) => n.endsWith('data.pkl'));
    if (pkl) entries[pkl] = mutateBytes(rng, entries[pkl]);
    const storages: Record<string, Uint8Array> = {};
    for (const [n, v] of Object.entries(entries)) {
      const k = /\/data\/(\w+)$/.exec(n);
      if (k) storages[k[1]] = rng.chance(0.2) ? v.subarray(0, rng.int(v.length + 1)) : v;
    }
    bytes = torchZip(pkl ? entries[pkl] : randomPickle(rng), storages);
  } else {
    how = 'pt: byte mutation';
    bytes = mutateBytes(rng, rng.pick(all), rng.pick(all));
  }
  writeFileSync(join(m, rng.chance(0.8) ? 'model.pt' : 'model.pth'), bytes);
  return { target: 'pt', bits: bits(rng), how };
}

function legacyCase(rng: Rng, dir: string): CaseSpec {
  const m = modelDir(dir);
  const seed = readFileSync(join(READERS, 'lsq_module_legacy.pt'));
  writeFileSync(join(m, 'model.pt'), mutateBytes(rng, seed, rng.chance(0.3) ? randomPickle(rng) : undefined));
  return { target: 'pt-legacy', bits: bits(rng), how: 'pt-legacy: byte mutation' };
}

const ST_DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I8', 'U8', 'I16', 'I32', 'I64', 'BOOL', 'F8', 'X', ''];
function safetensorsCase(rng: Rng, dir: string): CaseSpec {
  const m = modelDir(dir);
  let bytes: Uint8Array;
  let how: string;
  if (rng.chance(0.5)) {
    how = 'safetensors: generated header';
    const header: Record<string, unknown> = {};
    let off = 0;
    for (let k = rng.range(1, 4); k > 0; k--) {
      const name = rng.pick(['conv.weight', 'conv.quan_w_fn.s', 'conv.weight_quantizer._amax', 'fc.weight', 'conv.bias', 'x']);
      const shape = Array.from({ length: rng.range(0, 4) }, () => (rng.chance(0.3) ? rng.pick([...INTERESTING, -1, 1.5]) : rng.range(0, 6)));
      const len = rng.chance(0.7) ? Math.max(0, shape.reduce((a, b) => a * b, 1) * 4) : rng.pick(INTERESTING);
      header[name] = { dtype: rng.pick(ST_DTYPES), shape, data_offsets: rng.chance(0.8) ? [off, off + len] : [rng.pick(INTERESTING), rng.pick(INTERESTING)] };
      if (Number.isSafeInteger(len) && len > 0 && len < 1e6) off += len;
    }
    if (rng.chance(0.3)) header.__metadata__ = { 'conv.weight_quantizer.bits': rng.pick(['4', '-1', 'NaN', '1e9', '0']), x: randomJson(rng) };
    const data = rng.bytes(Math.min(Math.max(0, off), 1 << 16));
    bytes = safetensorsFile(header, data, rng.chance(0.3) ? rng.pick([640, 896, 1152, 1408]) : 0);
  } else {
    how = 'safetensors: byte mutation';
    const all = seeds('.safetensors');
    bytes = mutateBytes(rng, rng.pick(all));
  }
  writeFileSync(join(m, rng.chance(0.8) ? 'model.safetensors' : 'model.pt'), bytes);
  return { target: 'safetensors', bits: bits(rng), how };
}

const GT = {
  images: [
    { id: 1, width: 64, height: 48, file_name: 'a.jpg' },
    { id: 2, width: 32, height: 32, file_name: 'b.jpg' },
  ],
  categories: [
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, area: 40, bbox: [1, 2, 8, 5], iscrowd: 0 },
    { id: 2, image_id: 2, category_id: 2, area: 9, bbox: [3, 3, 3, 3], iscrowd: 0 },
  ],
};
const DETS = [
  { image_id: 1, category_id: 1, bbox: [1, 2, 8, 5], score: 0.9 },
  { image_id: 2, category_id: 2, bbox: [2, 2, 4, 4], score: 0.4 },
];

/** Replace a random node of a JSON value by a random value. */
function mutateJson(rng: Rng, v: unknown): unknown {
  const copy = structuredClone(v);
  for (let k = rng.range(1, 3); k > 0; k--) {
    let node: unknown = copy;
    for (let d = 0; d < 4; d++) {
      if (Array.isArray(node) && node.length) {
        const i = rng.int(node.length);
        if (rng.chance(0.4)) {
          node[i] = randomJson(rng);
          break;
        }
        node = node[i];
      } else if (node && typeof node === 'object') {
        const keys = Object.keys(node);
        if (!keys.length) break;
        const key = rng.pick(keys);
        if (rng.chance(0.4)) {
          if (rng.chance(0.2)) delete (node as Record<string, unknown>)[key];
          else (node as Record<string, unknown>)[key] = randomJson(rng);
          break;
        }
        node = (node as Record<string, unknown>)[key];
      } else break;
    }
  }
  return copy;
}

function cocoCase(target: 'coco-gt' | 'coco-dt', rng: Rng, dir: string): CaseSpec {
  const d = join(dir, 'data');
  mkdirSync(d);
  let gt: string = JSON.stringify(GT),
    dt: string = JSON.stringify(DETS);
  let how = `${target}: json mutation`;
  const r = rng.int(10);
  // A mutation can nest deeper than JSON.stringify recurses (seed 20261206): such a case is the deep
  // nesting case below, written as text.
  const text = (v: unknown) => {
    try {
      return JSON.stringify(v);
    } catch (err) {
      if (err instanceof RangeError) return deepJsonText(rng);
      throw err;
    }
  };
  if (r < 6) {
    if (target === 'coco-gt') gt = text(mutateJson(rng, GT));
    else dt = text(mutateJson(rng, DETS));
  } else if (r === 6) {
    how = `${target}: deep nesting`;
    if (target === 'coco-gt') gt = rng.chance(0.5) ? deepJsonText(rng) : text({ ...GT, annotations: [{ ...GT.annotations[0], bbox: '@' }] }).replace('"@"', deepJsonText(rng));
    else dt = rng.chance(0.5) ? deepJsonText(rng) : text([{ ...DETS[0], score: '@' }]).replace('"@"', deepJsonText(rng));
  } else if (r === 7) {
    how = `${target}: byte mutation`;
    const b = Buffer.from(mutateBytes(rng, Buffer.from(target === 'coco-gt' ? gt : dt))).toString('latin1');
    if (target === 'coco-gt') gt = b;
    else dt = b;
  } else if (r === 8) {
    how = `${target}: many categories/detections`;
    const n = rng.pick([1000, 50_000, 250_000]);
    if (target === 'coco-gt') gt = text({ ...GT, categories: Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `c${i}` })) });
    else dt = text(Array.from({ length: Math.min(n, 60_000) }, (_, i) => ({ image_id: 1 + (i % 2), category_id: 1 + (i % 3), bbox: [i % 50, i % 40, 5, 5], score: (i % 997) / 997 })));
  } else {
    how = `${target}: generated`;
    if (target === 'coco-gt') gt = text(randomJson(rng));
    else dt = text(randomJson(rng));
  }
  writeFileSync(join(d, 'gt.json'), gt);
  writeFileSync(join(d, 'dt.json'), dt);
  return { target, how };
}

const TOKENS = ['0', '1', '4', '5', '-1', '0.5', '0.25', '0.1', '1.0', '1e308', 'NaN', 'inf', '-0', 'x', '0x10', '1.5', '0.0', '2', ''];
function yoloCase(rng: Rng, dir: string, fuzzYaml: boolean): CaseSpec {
  const d = join(dir, 'data');
  mkdirSync(join(d, 'images', 'val'), { recursive: true });
  mkdirSync(join(d, 'labels', 'val'), { recursive: true });
  const imgs = readdirSync(IMAGES)
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .slice(0, 2);
  for (const im of imgs) copyFileSync(join(IMAGES, im), join(d, 'images', 'val', im));
  let yaml = 'path: .\nval: images/val\nnc: 5\nnames: [circle, square, triangle, star, cross]\n';
  let how = 'yolo-labels: generated lines';
  if (fuzzYaml) {
    const r = rng.int(5);
    if (r === 0) {
      how = 'data-yaml: alias bomb';
      yaml = `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`).join('\n')}\nval: images/val\nnames: *j\n`;
    } else if (r === 1) {
      how = 'data-yaml: deep nesting';
      const depth = rng.range(1000, 50_000);
      yaml = `val: images/val\nnames: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    } else if (r === 2) {
      how = 'data-yaml: paths';
      yaml = `path: ${rng.pick(['..', '/', '../..', '~', '', '/nonexistent', 'images'])}\nval: ${rng.pick(['images/val', '../canary.bin', '/etc', '', '[images/val, images/val]', 'canary.bin'])}\nnames: ${rng.pick(['[a, b]', '{0: a, 2: b}', '{-1: a}', 'null', '5', `[${'a, '.repeat(rng.range(0, 3000))}b]`])}\n`;
    } else {
      how = 'data-yaml: byte mutation';
      yaml = Buffer.from(mutateBytes(rng, Buffer.from(yaml))).toString('latin1');
    }
  }
  writeFileSync(join(d, 'data.yaml'), yaml);
  for (const im of imgs) {
    const lines: string[] = [];
    if (!fuzzYaml || rng.chance(0.3)) {
      for (let l = rng.range(0, 6); l > 0; l--) {
        const n = rng.chance(0.8) ? 5 : rng.pick([0, 1, 4, 6, 7, 9, rng.range(10, 200_000)]);
        lines.push(Array.from({ length: n }, () => rng.pick(TOKENS)).join(rng.pick([' ', '  ', '\t'])));
      }
    } else lines.push('0 0.5 0.5 0.2 0.2');
    writeFileSync(join(d, 'labels', 'val', im.replace(/\.jpg$/, '.txt')), rng.chance(0.1) ? rng.bytes(rng.range(0, 200)) : lines.join(rng.pick(['\n', '\r\n'])));
  }
  return { target: fuzzYaml ? 'data-yaml' : 'yolo-labels', how };
}
