// One entry point for every checkpoint format: the reader is chosen by the file's first bytes
// (magic), then by its extension. Every reader returns the same Checkpoint model.
import { promises as fs } from 'node:fs';
import { extname } from 'node:path';
import type { Checkpoint, ReadOptions } from '../model';
import { FormatError, QatLensError } from '../errors';
import { readOnnx } from './onnx';
import { readPytorch, readPytorchLegacy } from './pytorch';
import { readSafetensors } from './safetensors';

export type { Checkpoint, ReadOptions };
export type SniffedFormat = 'onnx' | 'pytorch-zip' | 'pytorch-legacy' | 'safetensors' | 'unknown';

/**
 * The format, from the file's structure rather than one byte: safetensors (a u64 header length
 * that fits the file, then `{`) before pickle, since a header of 640, 896, 1152 or 1408 bytes starts
 * with 0x80 like a pickle's PROTO; then zip; then a legacy pickle; then ONNX, when the top-level
 * protobuf fields of a ModelProto walk exactly to the end of the file and include a graph.
 */
export function sniffFormat(bytes: Uint8Array): SniffedFormat {
  const n = bytes.length;
  if (n >= 10) {
    const len = Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0);
    if (len >= 2n && len <= BigInt(n - 8) && bytes[8] === 0x7b /* { */) return 'safetensors';
  }
  if (n >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05) && (bytes[3] === 0x04 || bytes[3] === 0x06)) return 'pytorch-zip';
  if (n >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'pytorch-legacy';
  if (looksLikeOnnx(bytes)) return 'onnx';
  return 'unknown';
}

/** ModelProto's top-level fields and their wire types (0 varint, 2 length-delimited). */
const MODEL_FIELDS: Record<number, number> = { 1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2 };

/** A bounded structural decode: O(number of top-level fields), no allocation. */
function looksLikeOnnx(b: Uint8Array): boolean {
  let pos = 0;
  let graph = false;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= b.length) return -1;
      const x = b[pos++];
      v += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return v;
    }
    return -1;
  };
  for (let fields = 0; pos < b.length; fields++) {
    if (fields > 100_000) return false;
    const tag = varint();
    if (tag < 0) return false;
    const field = Math.floor(tag / 8),
      wire = tag % 8;
    if (MODEL_FIELDS[field] !== wire) return false;
    if (wire === 0) {
      if (varint() < 0) return false;
      continue;
    }
    const len = varint();
    if (len < 0 || pos + len > b.length) return false;
    pos += len;
    if (field === 7) graph = true;
  }
  return graph && pos === b.length;
}

function byExtension(file: string): SniffedFormat {
  switch (extname(file).toLowerCase()) {
    case '.onnx':
      return 'onnx';
    case '.pt':
    case '.pth':
    case '.ckpt':
    case '.bin':
      return 'pytorch-zip';
    case '.safetensors':
      return 'safetensors';
    default:
      return 'unknown';
  }
}

/** Read a checkpoint (ONNX, PyTorch zip, safetensors) into the shared model. Never runs code from the file. */
export async function readCheckpoint(file: string, opts: ReadOptions = {}): Promise<Checkpoint> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new QatLensError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, 'EREAD');
  }
  if (bytes.length === 0) throw new FormatError('file is empty', file);
  let format = sniffFormat(bytes);
  if (format === 'unknown') format = byExtension(file);
  if (opts.bits !== undefined && !(Number.isInteger(opts.bits) && opts.bits >= 2 && opts.bits <= 16)) {
    throw new QatLensError(`--bits must be an integer from 2 to 16 (got ${opts.bits})`, file);
  }
  try {
    switch (format) {
      case 'onnx':
        return await readOnnx(file, bytes, opts);
      case 'pytorch-zip':
        return await readPytorch(file, bytes, opts);
      case 'safetensors':
        return await readSafetensors(file, bytes, opts);
      case 'pytorch-legacy':
        return await readPytorchLegacy(file, bytes, opts);
      default:
        throw new FormatError('unrecognised file: not ONNX, a PyTorch zip checkpoint (.pt/.pth/.ckpt) or safetensors', file);
    }
  } catch (err) {
    if (err instanceof QatLensError) throw err;
    // Anything unexpected from a reader still names the file rather than crashing the caller.
    throw new FormatError(`cannot read as ${format}: ${(err as Error).message}`, file);
  }
}
