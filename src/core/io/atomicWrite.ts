// Outputs are written to a temporary file beside the target and renamed into place, so a crash
// or a cancellation never leaves a half-written file, and a reader never sees one.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { QatLensError } from '../errors';

/** `data` may be an iterable of chunks (e.g. jsonChunks), written as they come. */
export async function atomicWrite(target: string, data: string | Uint8Array | Iterable<string> | AsyncIterable<string>, opts: { signal?: AbortSignal; inputs?: string[] } = {}): Promise<void> {
  const abs = resolve(target);
  for (const input of opts.inputs ?? []) {
    if (resolve(input) === abs) throw new QatLensError('refusing to write over an input file; choose another output path', target);
  }
  const tmp = join(dirname(abs), `.${basename(abs)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.writeFile(tmp, data, { signal: opts.signal });
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    await fs.rename(tmp, abs);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
