// npm run fuzz -- --n N --seed S [--seconds T] [--cli-every K] [--targets onnx,pt,...]
// Prints the seed first, then the figures; saves failing inputs under test/fixtures/fuzz/.
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { fuzz } from './harness';
import { TARGETS, type TargetName } from './targets';

const { values } = parseArgs({
  options: { n: { type: 'string' }, seed: { type: 'string' }, seconds: { type: 'string' }, 'cli-every': { type: 'string' }, targets: { type: 'string' }, 'no-save': { type: 'boolean' } },
});
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
const n = values.n ? Number(values.n) : 1000;
const targets = values.targets ? (values.targets.split(',') as TargetName[]) : TARGETS;
for (const t of targets)
  if (!TARGETS.includes(t)) {
    console.error(`unknown target ${t} (targets: ${TARGETS.join(', ')})`);
    process.exit(2);
  }
console.log(`fuzz seed ${seed}: ${n} cases over ${targets.join(', ')} (rerun: npm run fuzz -- --n ${n} --seed ${seed})`);
void main();
async function main(): Promise<void> {
  const stats = await fuzz({
    seed,
    n,
    seconds: values.seconds ? Number(values.seconds) : undefined,
    cliEvery: values['cli-every'] ? Number(values['cli-every']) : 50,
    save: !values['no-save'],
    targets,
    log: (l) => console.log(l),
  });
  console.log(JSON.stringify({ ...stats, failures: stats.failures.length, cpus: cpus().length }, null, 1));
  for (const f of stats.failures) console.log(`failing: ${f.target} #${f.index} (${f.how}): ${f.violations.join('; ')}${f.saved ? ` [saved ${f.saved}]` : ''}`);
  process.exitCode = stats.failures.length ? 1 : 0;
}
