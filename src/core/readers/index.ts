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

/** Guess the format from the first bytes; `unknown` when nothing matches. */
export function sniffFormat(head: Uint8Array): SniffedFormat {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06)) return 'pytorch-zip';
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return 'pytorch-legacy';
  if (head.length >= 10) {
    const n = Number(Buffer.from(head.buffer, head.byteOffset, 8).readBigUInt64LE(0));
    if (n > 1 && n < 100_000_000 && head[8] === 0x7b /* { */) return 'safetensors';
  }
  // ONNX ModelProto almost always starts with ir_version (field 1, varint: 0x08) and a small version.
  if (head.length >= 2 && head[0] === 0x08 && head[1] > 0 && head[1] < 32) return 'onnx';
  return 'unknown';
}

function byExtension(file: string): SniffedFormat {
  switch (extname(file).toLowerCase()) {
    case '.onnx': return 'onnx';
    case '.pt': case '.pth': case '.ckpt': case '.bin': return 'pytorch-zip';
    case '.safetensors': return 'safetensors';
    default: return 'unknown';
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
  if (bytes.length === 0) throw new FormatError(file, 'file is empty');
  let format = sniffFormat(bytes.subarray(0, 16));
  if (format === 'unknown') format = byExtension(file);
  if (opts.bits !== undefined && !(Number.isInteger(opts.bits) && opts.bits >= 2 && opts.bits <= 16)) {
    throw new QatLensError(`--bits must be an integer from 2 to 16 (got ${opts.bits})`, file);
  }
  try {
    switch (format) {
      case 'onnx': return await readOnnx(file, bytes, opts);
      case 'pytorch-zip': return await readPytorch(file, bytes, opts);
      case 'safetensors': return await readSafetensors(file, bytes, opts);
      case 'pytorch-legacy': return await readPytorchLegacy(file, bytes, opts);
      default:
        throw new FormatError(file, 'unrecognised file: not ONNX, a PyTorch zip checkpoint (.pt/.pth/.ckpt) or safetensors');
    }
  } catch (err) {
    if (err instanceof QatLensError) throw err;
    // Anything unexpected from a reader still names the file rather than crashing the caller.
    throw new FormatError(file, `cannot read as ${format}: ${(err as Error).message}`);
  }
}
