// ONNX protobuf I/O and tensor conversion, shared by the ONNX reader, the QC writer and the probes.
// Decoding goes through onnx-proto's static protobufjs code; raw_data arrives as a view into the
// file buffer (no copy) and is copied at most once, when it is unaligned for a typed-array view.
import { closeSync, fstatSync, openSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { onnx } from 'onnx-proto';
import { FormatError, QatLensError } from '../errors';
import { atomicWrite } from '../io/atomicWrite';

export { onnx };

/** TensorProto.DataType values, including those newer than onnx-proto's enum (opset 21 int4/uint4). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
} as const;

/**
 * Integer range [min, max] of every ONNX integer type a quantizer can store or produce (int64 and
 * uint64 are left out: their ends are not exact in a JS number). Read it through qdq.ts's intRange.
 */
export const INT_RANGES: Readonly<Record<number, readonly [number, number]>> = {
  [DataType.UINT4]: [0, 15],
  [DataType.INT4]: [-8, 7],
  [DataType.UINT8]: [0, 255],
  [DataType.INT8]: [-128, 127],
  [DataType.UINT16]: [0, 65535],
  [DataType.INT16]: [-32768, 32767],
  [DataType.UINT32]: [0, 4294967295],
  [DataType.INT32]: [-2147483648, 2147483647],
};

const DTYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
};

/** Name of an ONNX data type as used in WeightTensor.storedDtype ("float32", "int4", ...). */
export function dtypeName(dataType: number): string {
  return DTYPE_NAMES[dataType] ?? `onnx-type-${dataType}`;
}

/** int64 fields decode as Long (when the `long` package is present) or number: make them numbers. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high, unsigned } = v as { low: number; high: number; unsigned?: boolean };
    return (unsigned ? high >>> 0 : high) * 4294967296 + (low >>> 0);
  }
  if (typeof v === 'string') return Number(v);
  return Number(v);
}

/** Decode an ONNX model from bytes; `file` names it in errors and resolves external data. */
export function decodeModel(bytes: Uint8Array, file: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new FormatError(`not a valid ONNX model (protobuf decode failed: ${(err as Error).message})`, file);
  }
  if (!model.graph) throw new FormatError('not a valid ONNX model (no graph)', file);
  resolveExternalData(model, file);
  return model;
}

/** Read and decode an ONNX model. Synchronous: one read, no copies of weight data. */
export function loadModel(file: string): onnx.ModelProto {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new QatLensError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, 'EREAD');
  }
  return decodeModel(bytes, file);
}

/** Encode a model and write it atomically (temp file + rename), never over one of `opts.inputs`. */
export async function saveModel(model: onnx.IModelProto, file: string, opts: { signal?: AbortSignal; inputs?: string[] } = {}): Promise<void> {
  const bytes = onnx.ModelProto.encode(model).finish();
  await atomicWrite(file, bytes, opts);
}

/** Tensors stored outside the .onnx (data_location = EXTERNAL) are read into rawData, so every
 *  consumer sees one kind of tensor. Saving such a model writes the data inline. */
function resolveExternalData(model: onnx.ModelProto, file: string): void {
  const tensors: onnx.ITensorProto[] = [...(model.graph?.initializer ?? [])];
  for (const node of model.graph?.node ?? []) for (const a of node.attribute ?? []) if (a.t) tensors.push(a.t);
  let base: string | undefined;
  for (const t of tensors) {
    if (t.dataLocation !== 1) continue;
    base ??= modelFolder(file);
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location');
    const what = `external data of tensor '${t.name}'`;
    if (!location) throw new FormatError(`${what} has no location`, file);
    const target = externalDataPath(file, base, location, what);
    const offset = externalInt(file, kv.get('offset'), 'offset', what) ?? 0;
    const declared = externalInt(file, kv.get('length'), 'length', what);
    let fd: number | undefined;
    try {
      fd = openSync(target, 'r');
      const st = fstatSync(fd);
      if (!st.isFile()) throw new FormatError(`${what} (${location}) is not a regular file`, file);
      // Every figure is checked against the file's size before anything is allocated.
      if (offset > st.size) throw new FormatError(`${what}: offset ${offset} lies past the end of ${location} (${st.size} bytes)`, file);
      const length = declared ?? byteLengthOf(t, file);
      if (!Number.isSafeInteger(length) || length < 0) throw new FormatError(`${what}: its shape gives an impossible byte length`, file);
      if (offset + length > st.size) throw new FormatError(`${what}: ${length} bytes at offset ${offset} do not fit ${location} (${st.size} bytes)`, file);
      const buf = Buffer.alloc(length);
      const n = length > 0 ? readSync(fd, buf, 0, length, offset) : 0;
      if (n !== length) throw new FormatError(`${what} (${location}): short read, ${n} of ${length} bytes`, file);
      t.rawData = buf;
    } catch (err) {
      if (err instanceof QatLensError) throw err;
      throw new FormatError(`${what} (${location}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    t.dataLocation = 0;
    t.externalData = [];
  }
}

/** The real path of the folder that holds the model (symlinks resolved). */
function modelFolder(file: string): string {
  try {
    return realpathSync(dirname(resolve(file)));
  } catch (err) {
    throw new QatLensError(`cannot resolve the model's folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, 'EREAD');
  }
}

/**
 * Where an external-data location points, refused unless it stays inside the model's folder:
 * relative, and its real path (every symlink resolved) relative to the folder's real path has no
 * `..` step. A sibling folder whose name starts like the model's (models-private/) is outside.
 */
export function externalDataPath(file: string, base: string, location: string, what = 'external data'): string {
  if (location.includes('\0') || isAbsolute(location) || win32.isAbsolute(location)) {
    throw new FormatError(`${what} has an absolute location (${JSON.stringify(location)}); only files inside the model's folder are read`, file);
  }
  const outside = (): never => {
    throw new FormatError(`${what} points outside the model's folder (${JSON.stringify(location)}); only files inside it are read`, file);
  };
  const inside = (p: string) => {
    const rel = relative(base, p);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  };
  const joined = resolve(base, location);
  if (!inside(joined)) outside();
  let real: string;
  try {
    real = realpathSync(joined);
  } catch (err) {
    throw new FormatError(`${what} (${location}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  if (!inside(real)) outside();
  return real;
}

/** An external-data offset or length: a plain decimal integer, 0 <= value <= 2^53. */
function externalInt(file: string, v: string | undefined, key: string, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw new FormatError(`${what}: ${key} ${JSON.stringify(v)} is not a non-negative integer`, file);
  return n;
}

export function tensorShape(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

/** Element count from the declared dims; refuses negative, fractional or astronomically large ones. */
function elementCount(t: onnx.ITensorProto): number {
  const dims = tensorShape(t);
  const n = dims.reduce((a, b) => a * b, 1);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0) || !Number.isSafeInteger(n)) {
    throw new Error(`declared shape [${dims.join(', ')}] is not a valid tensor shape`);
  }
  return n;
}

function byteLengthOf(t: onnx.ITensorProto, file: string): number {
  const n = elementCount(t);
  switch (t.dataType) {
    case 1:
    case 6:
    case 12:
      return 4 * n;
    case 7:
    case 11:
    case 13:
      return 8 * n;
    case 10:
    case 16:
    case 4:
    case 5:
      return 2 * n;
    case 2:
    case 3:
    case 9:
      return n;
    case 21:
    case 22:
      return Math.ceil(n / 2);
    default:
      throw new FormatError(`tensor '${t.name}' has unsupported data type ${dtypeName(t.dataType ?? 0)}`, file);
  }
}

export type TensorArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array;

/** float16 bits -> float32 value. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float32 -> float16 bits, round to nearest even (as numpy does). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

function halvesToFloat32(src: Uint16Array | ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]);
  return out;
}

function bf16ToFloat32(src: Uint16Array | ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) bits[i] = (src[i] & 0xffff) << 16;
  return out;
}

/** Two 4-bit values per byte, low nibble first (ONNX int4/uint4 packing). */
function unpackNibbles(bytes: ArrayLike<number>, n: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const b = bytes[i >> 1];
    const nib = i & 1 ? (b >> 4) & 0xf : b & 0xf;
    out[i] = signed && nib >= 8 ? nib - 16 : nib;
  }
  return out;
}

/** A typed view of raw bytes, copied once if the offset is not aligned for the element size. */
function view<T>(raw: Uint8Array, Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }, n: number): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (raw.byteLength < n * size) throw new Error(`raw_data holds ${raw.byteLength} bytes, ${n * size} needed`);
  if (raw.byteOffset % size === 0) return new Ctor(raw.buffer, raw.byteOffset, n);
  const copy = new Uint8Array(n * size);
  copy.set(raw.subarray(0, n * size));
  return new Ctor(copy.buffer, 0, n);
}

/**
 * A tensor's values as a typed array (row-major, `tensorShape(t)`): float32/float16/bfloat16 ->
 * Float32Array, double -> Float64Array, int8/int4 -> Int8Array, uint8/uint4/bool -> Uint8Array,
 * int16/uint16/int32/uint32 -> matching arrays, int64 -> BigInt64Array. Little-endian raw_data
 * (the ONNX rule). A view into the model's buffer where aligned: copy before mutating.
 */
export function tensorToArray(t: onnx.ITensorProto, file = '<onnx>'): TensorArray {
  const n = elementCount(t);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const dt = t.dataType ?? 0;
  try {
    if (raw) {
      switch (dt) {
        case 1:
          return view(raw, Float32Array, n);
        case 11:
          return view(raw, Float64Array, n);
        case 3:
          return view(raw, Int8Array, n);
        case 2:
        case 9:
          return view(raw, Uint8Array, n);
        case 5:
          return view(raw, Int16Array, n);
        case 4:
          return view(raw, Uint16Array, n);
        case 6:
          return view(raw, Int32Array, n);
        case 12:
          return view(raw, Uint32Array, n);
        case 7:
          return view(raw, BigInt64Array, n);
        case 10:
          return halvesToFloat32(view(raw, Uint16Array, n), n);
        case 16:
          return bf16ToFloat32(view(raw, Uint16Array, n), n);
        case 21:
        case 22:
          if (raw.byteLength < Math.ceil(n / 2)) throw new Error(`raw_data holds ${raw.byteLength} bytes, ${Math.ceil(n / 2)} needed`);
          return unpackNibbles(raw, n, dt === 22);
      }
    } else {
      const need = (arr: ArrayLike<unknown> | null | undefined, count: number, field: string) => {
        if ((arr?.length ?? 0) < count) throw new Error(`${field} holds ${arr?.length ?? 0} values, ${count} needed`);
        return arr!;
      };
      switch (dt) {
        case 1:
          return Float32Array.from(need(t.floatData, n, 'float_data') as number[]).subarray(0, n);
        case 11:
          return Float64Array.from(need(t.doubleData, n, 'double_data') as number[]).subarray(0, n);
        case 3:
          return Int8Array.from(need(t.int32Data, n, 'int32_data') as number[]).subarray(0, n);
        case 2:
        case 9:
          return Uint8Array.from(need(t.int32Data, n, 'int32_data') as number[]).subarray(0, n);
        case 5:
          return Int16Array.from(need(t.int32Data, n, 'int32_data') as number[]).subarray(0, n);
        case 4:
          return Uint16Array.from(need(t.int32Data, n, 'int32_data') as number[]).subarray(0, n);
        case 6:
          return Int32Array.from(need(t.int32Data, n, 'int32_data') as number[]).subarray(0, n);
        case 12:
          return Uint32Array.from((need(t.uint64Data, n, 'uint64_data') as unknown[]).map(toNumber)).subarray(0, n);
        case 7:
          return BigInt64Array.from((need(t.int64Data, n, 'int64_data') as unknown[]).map((v) => BigInt(toNumber(v)))).subarray(0, n);
        case 10:
          return halvesToFloat32(need(t.int32Data, n, 'int32_data') as number[], n);
        case 16:
          return bf16ToFloat32(need(t.int32Data, n, 'int32_data') as number[], n);
        // int4/uint4 in int32_data: one packed byte (two nibbles) per int32, as onnx.helper writes them.
        case 21:
        case 22:
          return unpackNibbles(need(t.int32Data, Math.ceil(n / 2), 'int32_data') as number[], n, dt === 22);
      }
    }
  } catch (err) {
    throw new FormatError(`tensor '${t.name}': ${(err as Error).message}`, file);
  }
  throw new FormatError(`tensor '${t.name}' has unsupported data type ${dtypeName(dt)}`, file);
}

/** Any numeric tensor as float64 (int64 converted with Number: exact below 2^53). */
export function tensorToFloat64(t: onnx.ITensorProto, file?: string): Float64Array {
  const a = tensorToArray(t, file);
  if (a instanceof BigInt64Array) return Float64Array.from(a, (v) => Number(v));
  return Float64Array.from(a as ArrayLike<number>);
}

/**
 * A TensorProto with raw_data (little-endian), from numbers in row-major order. float16/bfloat16
 * are rounded to nearest even; int4/uint4 are packed two per byte, low nibble first.
 */
export function makeTensor(name: string, dims: number[], data: ArrayLike<number> | ArrayLike<bigint>, dataType: number): onnx.TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new QatLensError(`makeTensor '${name}': ${data.length} values for shape [${dims.join(', ')}]`);
  let bytes: Uint8Array;
  const num = (i: number) => Number(data[i]);
  const typed = <T extends ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }>(arr: T) => new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  switch (dataType) {
    case 1:
      bytes = typed(Float32Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 11:
      bytes = typed(Float64Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 3:
      bytes = typed(Int8Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 2:
    case 9:
      bytes = typed(Uint8Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 5:
      bytes = typed(Int16Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 4:
      bytes = typed(Uint16Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 6:
      bytes = typed(Int32Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 12:
      bytes = typed(Uint32Array.from({ length: n }, (_, i) => num(i)));
      break;
    case 7: {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = typeof data[i] === 'bigint' ? (data[i] as bigint) : BigInt(Math.trunc(num(i)));
      bytes = new Uint8Array(a.buffer);
      break;
    }
    case 10:
      bytes = typed(Uint16Array.from({ length: n }, (_, i) => floatToHalf(num(i))));
      break;
    case 16: {
      // bfloat16: round-to-nearest-even on the upper 16 bits of the float32.
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        f32[0] = num(i);
        const x = u32[0];
        out[i] = Number.isNaN(f32[0]) ? 0x7fc0 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      }
      bytes = typed(out);
      break;
    }
    case 21:
    case 22: {
      const [lo, hi] = INT_RANGES[dataType];
      bytes = new Uint8Array(Math.ceil(n / 2));
      for (let i = 0; i < n; i++) {
        const v = num(i);
        if (!Number.isInteger(v) || v < lo || v > hi) throw new QatLensError(`makeTensor '${name}': ${v} is not a ${dtypeName(dataType)} value`);
        bytes[i >> 1] |= (v & 0xf) << (i & 1 ? 4 : 0);
      }
      break;
    }
    default:
      throw new QatLensError(`makeTensor '${name}': unsupported data type ${dtypeName(dataType)}`);
  }
  return onnx.TensorProto.create({ name, dims, dataType, rawData: bytes });
}
