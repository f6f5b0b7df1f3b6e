// PyTorch checkpoints as torch.save writes them (>= 1.6): a zip with <prefix>/data.pkl (the pickled
// object), <prefix>/data/<key> (raw storages) and <prefix>/byteorder. The pickle is read by our own
// interpreter (pickle.ts), which never runs code from the file.
import type { Checkpoint, ReadOptions } from '../model';
import { FormatError } from '../errors';
import { PyGlobal, PyObject, isTensorRef, typeName, unpickle, unpickleAt, type TensorRef } from './pickle';
import { layersFromFlat, type FlatModel, type Scalar } from './stateDictLayers';
import { DTYPE_SIZE, storageTensor, type DType } from './tensorData';
import { ZipArchive } from './zip';

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  ShortStorage: 'int16',
  IntStorage: 'int32',
  LongStorage: 'int64',
  BoolStorage: 'bool',
};

interface StorageRef {
  key: string;
  dtype: DType;
}

/** Keys of a training-checkpoint dict that hold a model (whole module or state_dict), in report order. */
const MODEL_KEYS = ['model', 'ema', 'state_dict', 'model_state_dict', 'ema_state_dict', 'module', 'net', 'network'];

export async function readPytorch(file: string, bytes: Uint8Array, opts: ReadOptions = {}): Promise<Checkpoint> {
  const o = openZip(file, bytes);
  return buildCheckpoint(file, o.root, o.storageBytes, o.bigEndian, opts);
}

interface Opened {
  root: unknown;
  storageBytes: (key: string) => Uint8Array;
  bigEndian: boolean;
}

function openZip(file: string, bytes: Uint8Array): Opened {
  const zip = new ZipArchive(bytes, file);
  const pkls = [...zip.entries.keys()].filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl')).sort((a, b) => a.length - b.length);
  if (pkls.length === 0) throw new FormatError('zip archive has no data.pkl: not a torch.save checkpoint', file);
  const prefix = pkls[0].slice(0, -'data.pkl'.length); // "archive/" (or "")
  if (zip.entries.has(`${prefix}constants.pkl`) || [...zip.entries.keys()].some((n) => n.startsWith(`${prefix}code/`))) {
    throw new FormatError('this is a TorchScript archive (torch.jit.save), which holds compiled code: save the model with torch.save(model) or torch.save(model.state_dict()) instead', file);
  }
  let bigEndian = false;
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little' && order !== 'big') throw new FormatError(`unknown byteorder '${order}'`, file);
    bigEndian = order === 'big';
  }

  const root = unpickle(zip.read(pkls[0]), {
    file,
    persistentLoad: (pid) => {
      const ref = storageRef(file, pid);
      return { key: ref.rootKey, dtype: ref.dtype } satisfies StorageRef;
    },
  });

  const storages = new Map<string, Uint8Array>();
  const storageBytes = (key: string): Uint8Array => {
    let b = storages.get(key);
    if (!b) {
      const name = `${prefix}data/${key}`;
      if (!zip.entries.has(name)) throw new FormatError(`storage '${key}' referenced by data.pkl is missing from the archive`, file);
      b = zip.read(name);
      storages.set(key, b);
    }
    return b;
  };
  return { root, storageBytes, bigEndian };
}

/**
 * The pre-1.6 torch.save format (_use_new_zipfile_serialization=False): pickled magic number,
 * protocol version and sys_info, then the object, then the sorted storage keys, then each storage
 * as an int64 element count followed by its raw (little-endian) bytes.
 */
export async function readPytorchLegacy(file: string, bytes: Uint8Array, opts: ReadOptions = {}): Promise<Checkpoint> {
  const o = openLegacy(file, bytes);
  return buildCheckpoint(file, o.root, o.storageBytes, o.bigEndian, opts);
}

function openLegacy(file: string, bytes: Uint8Array): Opened {
  const magic = unpickleAt(bytes, 0, { file });
  if (magic.value !== 0x1950a86a20f9469cfc6cn) {
    throw new FormatError('a pickle, but not a torch.save file (no torch magic number)', file);
  }
  const version = unpickleAt(bytes, magic.end, { file });
  if (version.value !== 1001) throw new FormatError(`unsupported legacy torch.save protocol version ${String(version.value)}`, file);
  const sysInfo = unpickleAt(bytes, version.end, { file });
  const littleEndian = sysInfo.value instanceof Map ? sysInfo.value.get('little_endian') !== false : true;
  const storageTypes = new Map<string, DType>();
  const views = new Map<string, { root: string; offset: number; size: number }>();
  const obj = unpickleAt(bytes, sysInfo.end, {
    file,
    persistentLoad: (pid) => {
      // ('module', cls, source_file, source): the legacy format's class reference; the source text is ignored.
      if (Array.isArray(pid) && pid[0] === 'module') return pid[1];
      const ref = storageRef(file, pid);
      storageTypes.set(ref.rootKey, ref.dtype);
      const view = Array.isArray(pid) ? pid[5] : null;
      if (Array.isArray(view)) {
        views.set(String(view[0]), { root: ref.rootKey, offset: Number(view[1]), size: Number(view[2]) });
        return { key: String(view[0]), dtype: ref.dtype } satisfies StorageRef;
      }
      return { key: ref.rootKey, dtype: ref.dtype } satisfies StorageRef;
    },
  });
  const keys = unpickleAt(bytes, obj.end, { file });
  if (!Array.isArray(keys.value)) throw new FormatError('legacy torch.save file: storage key list missing', file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const roots = new Map<string, Uint8Array>();
  let pos = keys.end;
  for (const k of keys.value.map(String)) {
    const dtype = storageTypes.get(k);
    if (!dtype) throw new FormatError(`legacy torch.save file: storage '${k}' has no type`, file);
    if (pos + 8 > bytes.length) throw new FormatError(`legacy torch.save file truncated before storage '${k}'`, file);
    const n = Number(littleEndian ? dv.getBigInt64(pos, true) : dv.getBigInt64(pos, false));
    const len = n * DTYPE_SIZE[dtype];
    if (n < 0 || pos + 8 + len > bytes.length) throw new FormatError(`legacy torch.save file truncated in storage '${k}' (${len} bytes expected)`, file);
    roots.set(k, bytes.subarray(pos + 8, pos + 8 + len));
    pos += 8 + len;
  }
  const storageBytes = (key: string): Uint8Array => {
    const root = roots.get(key);
    if (root) return root;
    const v = views.get(key);
    const r = v && roots.get(v.root);
    if (!v || !r) throw new FormatError(`storage '${key}' referenced by the pickle is missing`, file);
    const size = DTYPE_SIZE[storageTypes.get(v.root)!];
    return r.subarray(v.offset * size, (v.offset + v.size) * size);
  };
  return { root: obj.value, storageBytes, bigEndian: !littleEndian };
}

/**
 * Every tensor and scalar attribute of each model variant (model / ema / state_dict) of a torch.save
 * file, quantized or not: for what is not a layer (e.g. a Detect module's anchors and stride).
 */
export function readPytorchModules(file: string, bytes: Uint8Array): { variant: string; flat: FlatModel; modelClass?: string }[] {
  const o = bytes[0] === 0x50 && bytes[1] === 0x4b ? openZip(file, bytes) : openLegacy(file, bytes);
  return flatVariants(file, o.root, o.storageBytes, o.bigEndian);
}

function storageRef(file: string, pid: unknown): { rootKey: string; dtype: DType } {
  if (!Array.isArray(pid) || pid[0] !== 'storage') throw new FormatError(`unexpected persistent id (${typeName(pid)}) in the pickle`, file);
  const type = pid[1];
  const name = type instanceof PyGlobal ? type.name : String(type);
  const dtype = STORAGE_DTYPES[name];
  if (!dtype) throw new FormatError(`unsupported storage type ${type instanceof PyGlobal ? type.fullName : name}`, file);
  return { rootKey: String(pid[2]), dtype };
}

/** The unpickled root object -> variants (model / ema / state_dict), each flattened. */
function flatVariants(file: string, root: unknown, storageBytes: (key: string) => Uint8Array, bigEndian: boolean): { variant: string; flat: FlatModel; modelClass?: string; epoch?: number }[] {
  const addTensor = (flat: FlatModel, name: string, t: TensorRef) => {
    const s = t.storage as StorageRef;
    if (!s || typeof s.key !== 'string') throw new FormatError(`tensor '${name}' has no storage`, file);
    flat.tensors.set(name, storageTensor(storageBytes(s.key), s.dtype, t.shape, t.stride, t.offset, { bigEndian, file, name }));
  };

  const variants: [string, unknown][] = [];
  let epoch: number | undefined;
  let modelClass: string | undefined;
  if (root instanceof Map) {
    const e = root.get('epoch');
    if (typeof e === 'number') epoch = e;
    for (const k of MODEL_KEYS) {
      const v = root.get(k);
      if (v instanceof PyObject || (v instanceof Map && [...v.values()].some(isTensorRef))) variants.push([k, v]);
    }
    if (variants.length === 0 && [...root.values()].some(isTensorRef)) variants.push(['state_dict', root]);
  } else if (root instanceof PyObject) {
    variants.push(['model', root]);
  }
  if (variants.length === 0) {
    const what = root instanceof Map ? `a dict with keys ${[...root.keys()].slice(0, 8).map(String).join(', ')}` : typeName(root);
    throw new FormatError(`no model found in the checkpoint (it holds ${what}); expected a state_dict, a module, or a dict with 'model'/'ema'/'state_dict'`, file);
  }

  return variants.map(([variant, value]) => {
    const flat: FlatModel = { tensors: new Map(), attrs: new Map(), classes: new Map() };
    if (value instanceof PyObject) {
      modelClass ??= value.className;
      walkModule(file, value, '', flat, new Set(), addTensor, 0);
    } else {
      for (const [k, v] of value as Map<unknown, unknown>) if (typeof k === 'string' && isTensorRef(v)) addTensor(flat, k, v);
    }
    return { variant, flat, modelClass, epoch };
  });
}

/** The unpickled root object -> variants (model / ema / state_dict) -> Checkpoint. */
function buildCheckpoint(file: string, root: unknown, storageBytes: (key: string) => Uint8Array, bigEndian: boolean, opts: ReadOptions): Checkpoint {
  const flats = flatVariants(file, root, storageBytes, bigEndian);
  const epoch = flats[0]?.epoch,
    modelClass = flats.find((f) => f.modelClass)?.modelClass;
  const notes: string[] = [];
  const models: Checkpoint['variants'] = [];
  const floatLayerCounts: number[] = [];
  const variants = flats.map((f) => [f.variant] as const);
  for (const { variant: name, flat } of flats) {
    const dtypes = new Set([...flat.tensors.values()].filter((t) => t.shape.length >= 2).map((t) => t.dtype));
    const res = layersFromFlat(file, flat, name, opts);
    floatLayerCounts.push(res.floatLayers.length);
    if (res.model.layers.length === 0) continue;
    models.push(res.model);
    notes.push(...res.notes);
    if (dtypes.has('float16') || dtypes.has('bfloat16')) notes.push(`${name}: weights stored as ${[...dtypes].join('/')}, read as float32`);
  }
  if (models.length === 0) {
    throw new FormatError(
      `no quantized layer found (${variants.map(([n]) => n).join(', ')}: ${floatLayerCounts.join('/')} weights, none with a weight quantizer: looked for torch.ao FakeQuantize scale/zero_point, LSQ s/alpha/step_size, pytorch-quantization _amax, Brevitas scaling_impl.value)`,
      file,
    );
  }
  return { file, format: 'pytorch', epoch, modelClass, variants: models, notes };
}

/** A pickled nn.Module: parameters and buffers become tensors, plain attributes become attrs, sub-modules recurse. */
/** Deepest module nesting walked; real detectors nest fewer than 10 levels. */
const MAX_MODULE_DEPTH = 200;

function walkModule(file: string, obj: PyObject, prefix: string, flat: FlatModel, seen: Set<object>, addTensor: (flat: FlatModel, name: string, t: TensorRef) => void, depth: number): void {
  if (depth > MAX_MODULE_DEPTH) throw new FormatError(`modules nested more than ${MAX_MODULE_DEPTH} levels deep (at ${prefix.slice(0, 80)}…): not a model`, file);
  if (seen.has(obj)) return;
  seen.add(obj);
  flat.classes.set(prefix.replace(/\.$/, ''), obj.className);
  const d = obj.dict;
  if (!d) return;
  for (const [k, v] of d) {
    if (typeof k !== 'string') continue;
    if ((k === '_parameters' || k === '_buffers') && v instanceof Map) {
      for (const [n, t] of v) if (typeof n === 'string' && isTensorRef(t)) addTensor(flat, prefix + n, t);
    } else if (k === '_modules' && v instanceof Map) {
      for (const [n, m] of v) if (typeof n === 'string' && m instanceof PyObject) walkModule(file, m, `${prefix}${n}.`, flat, seen, addTensor, depth + 1);
    } else if (k.startsWith('__')) {
      continue;
    } else if (isTensorRef(v)) {
      if (!flat.tensors.has(prefix + k)) addTensor(flat, prefix + k, v);
    } else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') {
      flat.attrs.set(prefix + k, v as Scalar);
    } else if (typeof v === 'bigint') {
      flat.attrs.set(prefix + k, Number(v));
    }
  }
}
