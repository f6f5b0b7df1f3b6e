// Runs an ONNX model with onnxruntime-node (CPU) on raw float32 images; used by check_onnx.py.
// node tools/example/ort_run.mjs MODEL.onnx INPUT.f32 COUNT OUTPUT.f32
import fs from 'node:fs';
import ort from 'onnxruntime-node';

const [model, input, countArg, output] = process.argv.slice(2);
const count = Number(countArg);
const buf = fs.readFileSync(input);
const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
const per = data.length / count;
const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
const chunks = [];
for (let i = 0; i < count; i += 20) {
  const b = Math.min(20, count - i);
  const t = new ort.Tensor('float32', data.subarray(i * per, (i + b) * per), [b, 3, 320, 320]);
  const res = await session.run({ images: t });
  chunks.push(Buffer.from(res.output0.data.buffer, res.output0.data.byteOffset, res.output0.data.byteLength));
}
fs.writeFileSync(output, Buffer.concat(chunks));
console.log(`${model}: ${count} images, output ${session.outputNames.join(',')}`);
