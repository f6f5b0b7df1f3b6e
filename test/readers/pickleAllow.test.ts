// The pickle allow-list: a call that is not a data rebuild is refused by name (it would run code
// in Python), whoever thought to list it; pickled whole modules stay data. Files: real torch.save
// output from tools/fixtures/make_hostile_fixtures.py, plus hand-assembled pickles.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { QatLensError } from '../../src/core/errors';
import { readCheckpoint } from '../../src/core/readers/index';
import { PyObject, unpickle } from '../../src/core/readers/pickle';
import { REBUILD_CALLS } from '../../src/core/readers/pickleAllow';
import { P, pickle } from '../helpers/pickleAsm';

const HOSTILE = join(__dirname, '..', 'fixtures', 'hostile');
const MARKER = '/tmp/qat-lens-hostile-marker';

const findings: [string, string][] = [
  ['pydoc_pipepager.pt', 'pydoc.pipepager'],
  ['timeit_timeit.pt', 'timeit.timeit'],
  ['cprofile_run.pt', 'cProfile.run'],
  ['profile_run.pt', 'profile.run'],
  ['uuid_get_command_stdout.pt', 'uuid._get_command_stdout'],
  ['numpy_runstring.pt', 'numpy.testing._private.utils.runstring'],
  ['unlisted_function.pt', 'somepkg.tools.run_everything'],
];

for (const [name, callable] of findings) {
  test(`${name}: refused, naming ${callable} as code Python would run; nothing runs`, async () => {
    rmSync(MARKER, { force: true });
    const file = join(HOSTILE, name);
    await assert.rejects(readCheckpoint(file, { bits: 4 }), (err: unknown) => {
      assert.ok(err instanceof QatLensError);
      assert.equal(err.message.split('\n').length, 1);
      assert.ok(err.message.startsWith(`${file}: refusing this file: its pickle calls ${callable}(...), which would run code in Python`), err.message);
      assert.match(err.message, /nothing was executed/);
      return true;
    });
    assert.equal(existsSync(MARKER), false);
  });
}

test('every fixture finding is present (no stale list)', () => {
  assert.deepEqual(
    readdirSync(HOSTILE)
      .filter((f) => f.endsWith('.pt'))
      .sort(),
    findings.map(([f]) => f).sort(),
  );
});

test('NEWOBJ of a class without arguments (a pickled nn.Module) is data; with arguments it is refused', () => {
  // models.yolo.Detect.__new__(Detect) then BUILD {'nc': 80}: how torch pickles whole modules.
  const mod = unpickle(pickle(P.global('models.yolo', 'Detect'), P.emptyTuple, P.NEWOBJ, P.dict([['nc', P.int(80)]]), P.BUILD), { file: 'm.pkl' }) as PyObject;
  assert.ok(mod instanceof PyObject);
  assert.equal(mod.className, 'models.yolo.Detect');
  assert.equal(mod.dict?.get('nc'), 80);
  assert.throws(
    () => unpickle(pickle(P.global('somepkg', 'Thing'), P.tuple(P.str('rm -rf /')), P.NEWOBJ), { file: 'n.pkl' }),
    /n\.pkl: refusing this file: its pickle calls somepkg\.Thing\.__new__\(\.\.\.\), which would run code in Python/,
  );
});

test('calling an object (e.g. a functools.partial built by the file) is refused', () => {
  assert.throws(
    () => unpickle(pickle(P.global('models.yolo', 'Detect'), P.emptyTuple, P.NEWOBJ, P.tuple(P.int(1)), P.REDUCE), { file: 'c.pkl' }),
    /c\.pkl: refusing this file: its pickle calls an object of class models\.yolo\.Detect/,
  );
});

test('INST and OBJ call the class (its __init__ runs in Python): only the allow-list', () => {
  assert.throws(() => unpickle(pickle(P.MARK, P.str('x'), P.inst('somepkg', 'Widget')), { file: 'i.pkl' }), /calls somepkg\.Widget\(\.\.\.\)/);
  const s = unpickle(pickle(P.MARK, P.MARK, P.int(3), P.LIST, P.inst('builtins', 'set')), { file: 'j.pkl' });
  assert.deepEqual(s, new Set([3]));
});

test('copyreg._reconstructor only with a built-in base', () => {
  const ok = unpickle(pickle(P.global('copyreg', '_reconstructor'), P.tuple(P.global('models.lsq', 'LsqQuan'), P.global('builtins', 'object'), P.NONE), P.REDUCE), { file: 'r.pkl' }) as PyObject;
  assert.equal(ok.className, 'models.lsq.LsqQuan');
  assert.throws(
    () => unpickle(pickle(P.global('copyreg', '_reconstructor'), P.tuple(P.global('x', 'Y'), P.global('somepkg', 'Base'), P.str('s')), P.REDUCE), { file: 'r.pkl' }),
    /copyreg\._reconstructor with base somepkg\.Base/,
  );
});

test('numpy scalars (YOLOv5 best_fitness) decode to numbers', () => {
  const dtype = [P.global('numpy', 'dtype'), P.tuple(P.str('f8'), P.FALSE, P.TRUE), P.REDUCE];
  const bytes = new Uint8Array(new Float64Array([0.625]).buffer);
  const v = unpickle(pickle(P.global('numpy.core.multiarray', 'scalar'), ...dtype, P.bytes(bytes), P.TUPLE2, P.REDUCE), { file: 's.pkl' });
  assert.equal(v, 0.625);
});

test('the allow-list holds only rebuild functions, no known code runner', () => {
  for (const n of REBUILD_CALLS) assert.doesNotMatch(n, /^(os|posix|subprocess|pydoc|timeit|cProfile|profile|uuid|runpy|pickle)\.|eval|exec|system|load$/, n);
});
