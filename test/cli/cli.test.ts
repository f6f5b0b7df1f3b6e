// The CLI as a user runs it: the real bin script, real exit codes and messages.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const bin = join(__dirname, '..', '..', 'bin', 'qat-lens.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('--help lists every subcommand', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const c of ['analyze', 'eval', 'map', 'probe', 'correct']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

test('no command prints help and exits non-zero', () => {
  const r = run();
  assert.equal(r.status, 2);
  assert.match(r.stdout, /Usage: qat-lens <command>/);
});

test('an unknown command is an error', () => {
  const r = run('analyse', 'x.pt');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "analyse"/);
});

test('an unknown flag names the flag and exits 2', () => {
  const r = run('analyze', '--detla', '0.1', 'x.pt');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option '--detla'/);
  assert.match(r.stderr, /Usage: qat-lens analyze/);
});

test('a missing input file is named', () => {
  const r = run('map', 'missing-model.onnx', '--data', __dirname);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no such file or folder: missing-model\.onnx/);
});

test('a missing required flag is named', () => {
  const r = run('correct', bin, '--data', __dirname);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out is required/);
});

test('bad flag values are rejected before any work', () => {
  assert.match(run('analyze', bin, '--delta', '0.7').stderr, /--delta must be a number in \(0, 0\.5\]/);
  assert.match(run('probe', bin, '--data', __dirname, '--delta', '0.1,x').stderr, /--delta must be a comma-separated list/);
  assert.match(run('map', bin, '--data', __dirname, '--engine', 'tpu').stderr, /--engine must be one of auto, cpu, webgpu, cuda/);
  for (const h of ['0', '../x'])
    assert.match(
      run('correct', bin, '--data', __dirname, '--out', 'x.onnx', '--holdout', h).stderr,
      new RegExp(`--holdout must be a positive whole number or a split name; got "${h.replace('.', '\\.')}"`),
    );
});

test('each subcommand has its own --help', () => {
  for (const c of ['analyze', 'eval', 'map', 'probe', 'correct']) {
    const r = run(c, '--help');
    assert.equal(r.status, 0, c);
    assert.match(r.stdout, new RegExp(`Usage: qat-lens ${c} `));
  }
});

test('a job runs through the shared job runner and prints its result', () => {
  const r = run('diag', '--steps', '2', '--delay', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).steps, 2);
  assert.match(r.stderr, /100% step 2\/2/);
});
