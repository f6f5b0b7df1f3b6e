// A gradient shard's thread (shards.ts): its own single-engine CPU GradEngine on its slice of each
// micro-batch. Bundled on its own as dist/gradShard.js; run from source under tsx.
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorInfo } from '../errors';
import { decodeModel } from '../onnx/proto';
import type { ShardInit, ShardReply, ShardRequest } from './shardMessages';
import { openGradEngine } from './single';
import type { GradEngine } from './types';

const port = parentPort;
if (port) {
  const init = workerData as ShardInit;
  // Requests are taken from the start and wait for the engine: a shard whose engine failed to
  // open still answers (its error), so a close never waits on a thread that cannot reply.
  const started: Promise<GradEngine> = openGradEngine(decodeModel(Buffer.from(init.model), init.file), init.file, { ...init.options, engine: 'cpu' }, undefined, init.shapes);
  let keptImages: Float32Array | undefined;
  const send = (m: ShardReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  // onnxruntime-node returns each output in its own ArrayBuffer: moved, not copied.
  const buffers = (a: Float32Array[]) => [...new Set(a.map((x) => x.buffer as ArrayBuffer))];
  const handle = async (r: ShardRequest): Promise<void> => {
    const e = await started;
    if (r.op === 'forward') {
      if (r.keep) keptImages = r.images;
      const heads = await e.forward(r.images, r.batch, r.gamma, r.beta, r.keep);
      send({ id: r.id, heads }, buffers(heads));
    } else if (r.op === 'close') {
      keptImages = undefined;
      await e.dispose();
      send({ id: r.id, closed: true });
    } else {
      const images = r.images ?? keptImages;
      if (!images) throw new Error('a backward without images and no kept forward');
      keptImages = undefined;
      const g = await e.backward(images, r.batch, r.gamma, r.beta, r.dHeads);
      send({ id: r.id, ...g }, buffers([...g.dGamma, ...g.dBeta]));
    }
  };
  port.on('message', (r: ShardRequest) => void handle(r).catch((err: unknown) => send({ id: r.id, error: toErrorInfo(err) })));
  started.then(
    (e) => send({ id: 0, ready: { device: e.device, keeps: e.keeps, heads: e.heads } }),
    (err: unknown) => send({ id: 0, error: toErrorInfo(err) }),
  );
}
