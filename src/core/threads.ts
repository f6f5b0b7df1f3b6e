// Worker threads of the engine (the shapes generator's drawing, QC's gradient shards). A thread's
// script is bundled on its own beside the bundles (dist/NAME.js); from source (tests and benches run
// under tsx) the thread loads the .ts file through tsx's require hook.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * A thread running `bundle` (a file name in `dir`, the caller's __dirname when bundled) or else
 * `source` (a .ts file in `dir`, run under tsx); undefined when neither is there.
 */
export function startThread(dir: string, bundle: string, source: string, workerData?: unknown): Worker | undefined {
  const bundled = join(dir, bundle),
    src = join(dir, source);
  if (existsSync(bundled)) return new Worker(bundled, { workerData });
  if (existsSync(src)) return new Worker(`require('tsx/cjs'); require(${JSON.stringify(src)});`, { eval: true, workerData });
  return undefined;
}
