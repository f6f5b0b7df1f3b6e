// Tensors read from storage bytes (PyTorch storages, safetensors buffers): dtype, shape, strides,
// storage offset. Values are decoded lazily, on demand, so tensors nobody asks for cost nothing.
import { FormatError } from '../errors';
import { halfToFloat } from '../onnx/proto';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

export const DTYPE_SIZE: Record<DType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int8: 1,
  uint8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  bool: 1,
};

export interface FlatTensor {
  shape: number[];
  dtype: DType;
  /** Row-major values: float64 stays Float64Array, every other dtype becomes Float32Array (int64 via Number). */
  toFloat(): Float32Array | Float64Array;
  /** Row-major values in float64 (for scales, zero points: exact arithmetic). */
  toFloat64(): Float64Array;
}

let halfTable: Float32Array | undefined;
/** float16 bits -> float32, via a 64K table (built once): the FP16 checkpoint hot path. */
function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  return halfTable;
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * A tensor over `storage` (the raw bytes of its storage), element offset and strides in elements.
 * `name` and `file` name the tensor in errors.
 */
export function storageTensor(storage: Uint8Array, dtype: DType, shape: number[], stride: number[] | undefined, offset: number, opts: { bigEndian?: boolean; file: string; name: string }): FlatTensor {
  const size = DTYPE_SIZE[dtype];
  if (!size) throw new FormatError(`tensor '${opts.name}' has unsupported dtype ${dtype}`, opts.file);
  const bad = (x: number) => !Number.isSafeInteger(x) || x < 0;
  if (shape.some(bad) || (stride && stride.some(bad)) || bad(offset)) {
    throw new FormatError(`tensor '${opts.name}' has an invalid shape, stride or offset ([${shape.join(', ')}], [${(stride ?? []).join(', ')}], ${offset})`, opts.file);
  }
  const n = numel(shape);
  // Elements are checked against the bytes that back them before anything is materialized: zero or
  // overlapping strides could otherwise expand a 4-byte storage into gigabytes.
  if (n * size > storage.byteLength) {
    throw new FormatError(`tensor '${opts.name}' declares ${n} ${dtype} elements [${shape.join(', ')}] over a storage of ${storage.byteLength} bytes (zero or overlapping strides?)`, opts.file);
  }
  const strides = stride && stride.length === shape.length ? stride : contiguousStrides(shape);
  const contiguous = strides.every((s, i) => shape[i] === 1 || s === contiguousStrides(shape)[i]);
  // Largest element index the view reaches: must lie inside the storage.
  let maxIndex = offset;
  for (let i = 0; i < shape.length; i++) if (shape[i] > 0) maxIndex += (shape[i] - 1) * Math.max(0, strides[i]);
  if (n > 0 && (maxIndex + 1) * size > storage.byteLength) {
    throw new FormatError(`tensor '${opts.name}' (${dtype} [${shape.join(', ')}]) reaches past the end of its storage (${storage.byteLength} bytes)`, opts.file);
  }

  /** Storage-element index of each row-major position. */
  const indices = (): Uint32Array | null => {
    if (contiguous) return null;
    const idx = new Uint32Array(n);
    const pos = new Array<number>(shape.length).fill(0);
    let cur = offset;
    for (let k = 0; k < n; k++) {
      idx[k] = cur;
      for (let d = shape.length - 1; d >= 0; d--) {
        pos[d]++;
        cur += strides[d];
        if (pos[d] < shape[d]) break;
        cur -= strides[d] * shape[d];
        pos[d] = 0;
      }
    }
    return idx;
  };

  /** Contiguous little-endian element bytes (swapped from big-endian where the archive says so). */
  const bytesOf = (): Uint8Array => {
    const idx = indices();
    let out: Uint8Array;
    if (!idx) out = storage.subarray(offset * size, (offset + n) * size);
    else {
      out = new Uint8Array(n * size);
      for (let k = 0; k < n; k++) out.set(storage.subarray(idx[k] * size, idx[k] * size + size), k * size);
    }
    if (opts.bigEndian && size > 1) {
      out = Uint8Array.from(out);
      for (let k = 0; k < out.length; k += size) out.subarray(k, k + size).reverse();
    }
    return out;
  };

  /** A typed view when aligned, else a copy (one copy at most). */
  const typed = <T>(b: Uint8Array, C: { new (buf: ArrayBufferLike, off: number, len: number): T }): T => {
    if (b.byteOffset % size === 0) return new C(b.buffer, b.byteOffset, n);
    const c = Uint8Array.from(b);
    return new C(c.buffer, 0, n);
  };

  const toFloat = (): Float32Array | Float64Array => {
    const b = bytesOf();
    switch (dtype) {
      case 'float32':
        return typed(b, Float32Array);
      case 'float64':
        return typed(b, Float64Array);
      case 'float16': {
        const h = typed(b, Uint16Array);
        const t = halfLookup();
        const out = new Float32Array(n);
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) {
          const x = h[i];
          const e = x & 0x7c00;
          // Normal numbers: move sign, rebias exponent (15 -> 127), widen mantissa. Others: table.
          if (e !== 0 && e !== 0x7c00) bits[i] = ((x & 0x8000) << 16) | (((x & 0x7fff) << 13) + 0x38000000);
          else out[i] = t[x];
        }
        return out;
      }
      case 'bfloat16': {
        const h = typed(b, Uint16Array);
        const out = new Float32Array(n);
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
        return out;
      }
      case 'int8':
        return Float32Array.from(typed(b, Int8Array));
      case 'uint8':
      case 'bool':
        return Float32Array.from(typed(b, Uint8Array));
      case 'int16':
        return Float32Array.from(typed(b, Int16Array));
      case 'int32':
        return Float32Array.from(typed(b, Int32Array));
      case 'int64':
        return Float32Array.from(typed(b, BigInt64Array), (v) => Number(v));
    }
  };
  const toFloat64 = (): Float64Array => {
    if (dtype === 'int64') return Float64Array.from(typed(bytesOf(), BigInt64Array), (v) => Number(v));
    if (dtype === 'int32') return Float64Array.from(typed(bytesOf(), Int32Array));
    const f = toFloat();
    return f instanceof Float64Array ? f : Float64Array.from(f);
  };
  return { shape, dtype, toFloat, toFloat64 };
}
