// What a user sees on bad input from the built CLI: exit code 1, one line naming the file, no
// stack trace, no deprecation warning, nothing written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { W_DIMS, encode, int8ConvModel } from '../helpers/onnxHostile';

const CLI = join(__dirname, '..', '..', 'bin', 'qat-lens.js');
const dir = mkdtempSync(join(tmpdir(), 'qat-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, lines: r.stderr.split('\n').filter((l) => l.trim() && !/^\s*\d+% /.test(l)), stderr: r.stderr };
}

test('empty checkpoints: exit 1, one line naming the file, no DEP0005 or other warning, nothing written', () => {
  for (const ext of ['.onnx', '.pt', '.safetensors', '.pth']) {
    const f = join(dir, `empty${ext}`);
    writeFileSync(f, '');
    const json = join(dir, `out${ext}.json`);
    const r = run(['analyze', f, '--json', json]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.lines, [`qat-lens analyze: ${f}: file is empty`]);
    assert.doesNotMatch(r.stderr, /DEP0005|DeprecationWarning|Warning:|\n\s+at /);
    assert.equal(existsSync(json), false);
  }
});

test('an ONNX model onnxruntime cannot load: one line naming the model, no raw engine text', () => {
  // A Conv over 3 channels whose weight has 1 input channel: decodes, but onnxruntime refuses it.
  const m = int8ConvModel(undefined, W_DIMS, 3);
  const f = join(dir, 'bad-conv.onnx');
  writeFileSync(f, encode(m));
  const data = join(__dirname, '..', '..', 'examples', 'shapes', 'data.yaml');
  const r = run(['map', f, '--data', data, '--limit', '1', '--engine', 'cpu']);
  assert.equal(r.code, 1, r.stderr);
  const last = r.lines[r.lines.length - 1];
  assert.ok(last.startsWith(`qat-lens map: ${f}: `), last);
  assert.ok(r.lines.length <= 3, r.stderr);
  assert.match(last, /onnxruntime: .*Input channels C is not equal to kernel channels/);
  assert.doesNotMatch(r.stderr, /\n\s+at |onnxruntime_src|\[E:onnxruntime/);
});
