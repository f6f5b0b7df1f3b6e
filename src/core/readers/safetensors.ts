// safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then the raw little-endian tensor bytes. Same naming and quantizer detection as a state_dict.
import type { Checkpoint, ReadOptions } from '../model';
import { FormatError } from '../errors';
import { layersFromFlat, type FlatModel } from './stateDictLayers';
import { DTYPE_SIZE, storageTensor, type DType } from './tensorData';

const DTYPES: Record<string, DType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I8: 'int8',
  U8: 'uint8',
  I16: 'int16',
  I32: 'int32',
  I64: 'int64',
  BOOL: 'bool',
};

export async function readSafetensors(file: string, bytes: Uint8Array, opts: ReadOptions = {}): Promise<Checkpoint> {
  if (bytes.length < 8) throw new FormatError('too short for safetensors (no header length)', file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n < 2 || 8 + n > bytes.length) throw new FormatError(`safetensors header length ${n} does not fit the file (${bytes.length} bytes): truncated?`, file);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    throw new FormatError(`safetensors header is not valid JSON (${(err as Error).message})`, file);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new FormatError('safetensors header is not a JSON object', file);
  const data = bytes.subarray(8 + n);
  const flat: FlatModel = { tensors: new Map(), attrs: new Map(), classes: new Map() };
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      // String metadata; numeric values under dotted names (e.g. "conv1.weight_quantizer.bits": "4")
      // are read as quantizer attributes.
      for (const [k, v] of Object.entries((info ?? {}) as Record<string, unknown>)) {
        if (k.includes('.') && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) flat.attrs.set(k, Number(v));
      }
      continue;
    }
    const t = info as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = DTYPES[t?.dtype ?? ''];
    if (!dtype) throw new FormatError(`tensor '${name}' has unsupported dtype ${t?.dtype}`, file);
    const shape = t.shape;
    const off = t.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new FormatError(`tensor '${name}' has an invalid shape`, file);
    if (!Array.isArray(off) || off.length !== 2 || !(off[0] >= 0 && off[1] >= off[0] && off[1] <= data.length)) {
      throw new FormatError(`tensor '${name}' data_offsets ${JSON.stringify(off)} lie outside the data (${data.length} bytes): truncated?`, file);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (off[1] - off[0] !== count * DTYPE_SIZE[dtype]) throw new FormatError(`tensor '${name}' has ${off[1] - off[0]} bytes for ${count} ${dtype} values`, file);
    flat.tensors.set(name, storageTensor(data.subarray(off[0], off[1]), dtype, shape, undefined, 0, { file, name }));
  }
  const res = layersFromFlat(file, flat, 'safetensors', opts);
  if (res.model.layers.length === 0) {
    throw new FormatError(
      `no quantized layer found (${res.floatLayers.length} weights, none with a weight quantizer: looked for torch.ao scale/zero_point, LSQ s/alpha/step_size, pytorch-quantization _amax, Brevitas scaling_impl.value)`,
      file,
    );
  }
  res.model.variant = 'state_dict';
  const dtypes = new Set([...flat.tensors.values()].filter((x) => x.shape.length >= 2).map((x) => x.dtype));
  if (dtypes.has('float16') || dtypes.has('bfloat16')) res.notes.push(`weights stored as ${[...dtypes].join('/')}, read as float32`);
  return { file, format: 'safetensors', variants: [res.model], notes: res.notes };
}
