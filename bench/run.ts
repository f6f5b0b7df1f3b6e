// npm run bench [name...]: runs the benchmarks, each printing its figures and the ratio to a
// baseline measured in the same run. Names: readers, analysis, cocoeval, pipeline, qc, train.
import { benchAnalysis } from './analysis';
import { benchCocoEval } from './cocoeval';
import { benchPipeline } from './pipeline';
import { benchQC } from './qc';
import { benchReaders } from './readers';
import { benchTrain } from './train';

const benches: Record<string, () => Promise<unknown>> = {
  readers: () => benchReaders(),
  analysis: () => benchAnalysis(),
  cocoeval: () => benchCocoEval(),
  pipeline: () => benchPipeline(),
  qc: () => benchQC(),
  train: () => benchTrain(),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const name of wanted) if (!benches[name]) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
  for (const [name, run] of Object.entries(benches)) {
    if (wanted.length && !wanted.includes(name)) continue;
    console.log(`\n=== ${name} ===`);
    const t0 = performance.now();
    await run();
    console.log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
