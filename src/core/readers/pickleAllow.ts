// What a pickle may call. Python's unpickler calls whatever a file names (REDUCE, INST, OBJ, and
// NEWOBJ with arguments); a checkpoint only ever calls the few functions that rebuild data. This is
// that list, the same idea as torch.load(weights_only=True), widened to what real YOLOv5, YOLOv7,
// ultralytics, torchvision and LSQ checkpoints hold (whole pickled modules included). Anything else
// is a call that would run code in Python: the file is refused, by name. A deny-list of known-bad
// names (picklescan, modelscan) misses every callable nobody listed yet; this list cannot.

/** Functions and classes a checkpoint calls to rebuild its data; each is interpreted in TypeScript. */
export const REBUILD_CALLS: ReadonlySet<string> = new Set([
  // torch tensors, parameters, storages, devices, shapes
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_device_tensor_from_numpy',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._tensor._rebuild_from_type',
  'torch._tensor._rebuild_from_type_v2',
  'torch.nn.parameter.Parameter',
  'torch.Size',
  'torch.device',
  'torch.serialization._get_layout',
  // containers and plain values
  'collections.OrderedDict',
  'collections.defaultdict',
  'collections.Counter',
  'builtins.dict',
  'builtins.list',
  'builtins.tuple',
  'builtins.set',
  'builtins.frozenset',
  'builtins.slice',
  'builtins.complex',
  'builtins.bytearray',
  'builtins.bytes',
  'builtins.int',
  'builtins.float',
  'builtins.str',
  'builtins.bool',
  'builtins.object',
  '__builtin__.dict',
  '__builtin__.list',
  '__builtin__.tuple',
  '__builtin__.set',
  '__builtin__.frozenset',
  '__builtin__.slice',
  '__builtin__.complex',
  '__builtin__.bytearray',
  '__builtin__.object',
  '_codecs.encode',
  'copyreg._reconstructor',
  'copy_reg._reconstructor',
  'copyreg.__newobj__',
  'copy_reg.__newobj__',
  // numpy arrays, dtypes and scalars (YOLOv5/ultralytics keep e.g. best_fitness as a numpy scalar)
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.dtype',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  // hyper-parameter holders: training options and dates that checkpoints carry along
  'argparse.Namespace',
  'types.SimpleNamespace',
  'ultralytics.utils.IterableSimpleNamespace',
  'ultralytics.yolo.utils.IterableSimpleNamespace',
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'pathlib.Path',
  'pathlib.PosixPath',
  'pathlib.WindowsPath',
  'pathlib.PurePosixPath',
  'pathlib.PureWindowsPath',
]);

/** Bases copyreg._reconstructor may call (base.__new__ / base.__init__): the built-in value types. */
export const RECONSTRUCTOR_BASES: ReadonlySet<string> = new Set(
  ['object', 'dict', 'list', 'tuple', 'set', 'frozenset', 'int', 'float', 'str', 'bytes', 'bytearray', 'complex'].flatMap((n) => [`builtins.${n}`, `__builtin__.${n}`]),
);

/**
 * Names refused even when only referenced (the earlier deny-list, kept because it names the culprit
 * at its first mention). Not the protection: the allow-list above is; the findings of issue 14
 * (pydoc.pipepager, timeit.timeit, cProfile.run, ...) are deliberately not added here.
 */
const KNOWN_CODE_RUNNING =
  /^(os|posix|nt|subprocess|sys|shutil|socket|importlib|runpy|pty|code|ctypes|multiprocessing|webbrowser|pickle|_pickle|marshal|commands|asyncio|signal|_posixsubprocess|popen2)\.|^(builtins|__builtin__)\.(eval|exec|execfile|compile|getattr|setattr|delattr|__import__|open|input|globals|locals|vars|breakpoint|help|exit|quit|reload)$|^(io|codecs)\.open$|^operator\.(attrgetter|methodcaller)$|^torch\.(load$|hub\.|jit\.(load|_script|frontend)|ops\.|_ops\.|classes\.|serialization\.(load|_load)|package\.)|^numpy\.(load|fromfile)$|^(yaml|dill|cloudpickle|joblib)\./;

export function isKnownCodeRunning(fullName: string): boolean {
  return KNOWN_CODE_RUNNING.test(fullName);
}
