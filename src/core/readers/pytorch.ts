// Temporary: the pytorch reader lands in the next commit.
import type { Checkpoint, ReadOptions } from '../model';
import { FormatError } from '../errors';

export async function readPytorch(file: string, _bytes: Uint8Array, _opts: ReadOptions = {}): Promise<Checkpoint> {
  throw new FormatError(file, 'pytorch reader not available yet');
}
