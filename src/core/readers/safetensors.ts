// Temporary: the safetensors reader lands in the next commit.
import type { Checkpoint, ReadOptions } from '../model';
import { FormatError } from '../errors';

export async function readSafetensors(file: string, _bytes: Uint8Array, _opts: ReadOptions = {}): Promise<Checkpoint> {
  throw new FormatError(file, 'safetensors reader not available yet');
}
