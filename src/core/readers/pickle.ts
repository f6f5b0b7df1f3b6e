// A Python pickle interpreter (protocols 0-5) that never imports or calls anything named in the file.
// GLOBAL/STACK_GLOBAL give inert class references. A call (REDUCE, INST, OBJ, NEWOBJ with
// arguments) must name one of the functions checkpoints use to rebuild data (pickleAllow.ts), which
// are interpreted here, in TypeScript; any other call would run code when Python loads the file, so
// the file is refused, naming it. NEWOBJ of a class without arguments (how torch pickles whole
// nn.Modules) gives plain data: a PyObject with the class name and its BUILD state.
// Work is bounded by the input: memo references are shared, never re-expanded; big integers decode
// in linear time; dict keys made of tuples are hashed once per object, with a size cap.
import { FormatError, isAllocationFailure } from '../errors';
import { REBUILD_CALLS, RECONSTRUCTOR_BASES, isKnownCodeRunning } from './pickleAllow';

/** An inert reference to a Python global (a class or function); never resolved or called. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a class the reader does not interpret: its class name, constructor args and state. */
export class PyObject {
  /** Items added by SETITEM(S) (dict subclasses) and APPEND(S) (list subclasses). */
  dictItems?: Map<unknown, unknown>;
  listItems?: unknown[];
  constructor(
    readonly className: string,
    readonly args: unknown[],
    public state: unknown = undefined,
    readonly kwargs?: unknown,
  ) {}
  /** The instance __dict__ when the state is a dict (or the dict half of a (dict, slots) tuple). */
  get dict(): Map<unknown, unknown> | undefined {
    if (this.state instanceof Map) return this.state;
    if (Array.isArray(this.state) && this.state[0] instanceof Map) return this.state[0] as Map<unknown, unknown>;
    return undefined;
  }
}

/** A tensor as torch pickles it: a view into a storage. */
export interface TensorRef {
  kind: 'tensor';
  storage: unknown; // whatever persistentLoad returned for the storage
  offset: number;
  shape: number[];
  stride: number[];
  requiresGrad: boolean;
  isParameter: boolean;
}

export const isTensorRef = (v: unknown): v is TensorRef => typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';

/** Python bytes / bytearray. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}

export interface UnpickleOptions {
  /** Names the file in errors. */
  file: string;
  /** Resolves persistent ids (torch: ('storage', type, key, location, numel)). */
  persistentLoad?: (pid: unknown) => unknown;
  /**
   * A call that is not on the rebuild allow-list: 'refuse' (default) stops with an error naming it;
   * 'report' reads it as inert data and passes its name to `onUnlistedCall`. Known code-running
   * names (os.system, eval, ...) are refused either way.
   */
  unlistedCalls?: 'refuse' | 'report';
  onUnlistedCall?: (what: string) => void;
}

/** Largest LONG1/LONG4 integer read (bytes); a checkpoint's integers are 8 bytes at most. */
const MAX_LONG_BYTES = 1 << 16;
/** Longest structural hash of a tuple dict key; longer keys hash by identity. */
const MAX_KEY_CHARS = 1 << 12;

export class PickleError extends FormatError {
  constructor(
    message: string,
    file: string,
    readonly offset: number,
  ) {
    super(`${message} (pickle offset ${offset})`, file);
    this.name = 'PickleError';
  }
}

export function unpickle(data: Uint8Array, opts: UnpickleOptions): unknown {
  return unpickleAt(data, 0, opts).value;
}

/** One pickle starting at `start`; `end` is the offset just after its STOP (the legacy torch format
 *  writes several pickles and raw storages one after another). */
export function unpickleAt(data: Uint8Array, start: number, opts: UnpickleOptions): { value: unknown; end: number } {
  try {
    return run(data, start, opts);
  } catch (err) {
    if (err instanceof FormatError || isAllocationFailure(err)) throw err;
    // Anything else is still the file's doing: one line that names it.
    throw new FormatError(`cannot read the pickle (${(err as Error)?.message?.split('\n')[0] ?? String(err)})`, opts.file);
  }
}

function run(data: Uint8Array, start: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const { file } = opts;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  let pos = start;
  let opPos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const fail = (msg: string): never => {
    throw new PickleError(msg, file, opPos);
  };

  const need = (n: number) => {
    if (pos + n > data.length) fail(`truncated pickle: ${n} bytes needed, ${data.length - pos} left`);
  };
  const u8 = () => {
    need(1);
    return data[pos++];
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const i32 = () => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large');
    return Number(v);
  };
  const bytes = (n: number) => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: newline expected');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) fail('MARK expected');
    stack = prev!;
    return items;
  };
  const longFromBytes = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    if (b.length > MAX_LONG_BYTES) fail(`integer of ${b.length} bytes: larger than any checkpoint holds`);
    // One hex string, one BigInt: linear in the length (shifting byte by byte is quadratic).
    let hex = '';
    for (let i = b.length - 1; i >= 0; i--) hex += HEX[b[i]];
    let v = BigInt(`0x${hex}`);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const parseIntText = (s: string): number | bigint | boolean => {
    s = s.trim().replace(/L$/, '');
    if (s === '00') return false;
    if (s === '01') return true;
    if (!/^[+-]?\d{1,4300}$/.test(s)) fail(`INT/LONG argument is not an integer: ${JSON.stringify(s.slice(0, 40))}`);
    const b = BigInt(s);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  };
  const pyRepr = (s: string): string => {
    // protocol 0 STRING: a Python repr in quotes; enough of the escapes for real files.
    const q = s[0];
    if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) fail('STRING opcode argument is not quoted');
    return s
      .slice(1, -1)
      .replace(/\\(x[0-9a-fA-F]{2}|[\\'"nrt0])/g, (_, e: string) =>
        e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16)) : (({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e),
      );
  };

  /** A call Python would make that is not a data rebuild: refused (default) or reported. */
  const unlisted = (what: string): PyObject => {
    if (opts.unlistedCalls === 'report') {
      opts.onUnlistedCall?.(what);
      return new PyObject(what, []);
    }
    return fail(`refusing this file: its pickle calls ${what}, which would run code in Python (it is not one of the functions checkpoints use to rebuild data); nothing was executed`);
  };
  const isEmpty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (v instanceof Map && v.size === 0);

  /** NEWOBJ: cls.__new__(cls, *args). Without arguments it is how every pickled object (nn.Module
   *  included) is made: data. With arguments, only the rebuild allow-list. */
  const newObj = (cls: unknown, args: unknown[], kwargs?: unknown): unknown => {
    if (!(cls instanceof PyGlobal)) return unlisted(`an object of class ${typeName(cls)}`);
    if (REBUILD_CALLS.has(cls.fullName)) return call(cls, args, kwargs);
    if (args.length === 0 && isEmpty(kwargs)) return new PyObject(cls.fullName, []);
    return unlisted(`${cls.fullName}.__new__(...)`);
  };

  /** What a call of `callable` with `args` means, without calling anything. */
  const call = (callable: unknown, args: unknown[], kwargs?: unknown): unknown => {
    if (!(callable instanceof PyGlobal)) return unlisted(`an object of class ${typeName(callable)}`);
    const name = callable.fullName;
    if (isKnownCodeRunning(name)) {
      fail(`refusing this file: its pickle calls ${name}(...), which would run code if the file were loaded in Python; nothing was executed`);
    }
    if (!REBUILD_CALLS.has(name)) return unlisted(`${name}(...)`);
    switch (name) {
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor': {
        const [storage, offset, size, stride, requiresGrad] = args as [unknown, number, unknown, unknown, boolean];
        return { kind: 'tensor', storage, offset: Number(offset ?? 0), shape: toInts(size), stride: toInts(stride), requiresGrad: !!requiresGrad, isParameter: false } satisfies TensorRef;
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
      case 'torch.nn.parameter.Parameter': {
        const t = args[0];
        if (isTensorRef(t)) return { ...t, isParameter: true, requiresGrad: !!args[1] };
        return t;
      }
      case 'torch._tensor._rebuild_from_type_v2': {
        // (func, type, args, state): a tensor subclass or a tensor with Python attributes; rebuild the tensor.
        const [fn, , inner] = args as [unknown, unknown, unknown];
        return call(fn, Array.isArray(inner) ? inner : []);
      }
      case 'torch._tensor._rebuild_from_type': {
        const [fn, , inner] = args as [unknown, unknown, unknown];
        return call(fn, Array.isArray(inner) ? inner : []);
      }
      case 'torch._utils._rebuild_device_tensor_from_numpy':
        return new PyObject(name, args);
      case 'collections.OrderedDict':
      case 'builtins.dict':
      case '__builtin__.dict': {
        const m = new Map<unknown, unknown>();
        const init = args[0];
        if (Array.isArray(init)) for (const kv of init) if (Array.isArray(kv)) m.set(kv[0], kv[1]);
        if (init instanceof Map) for (const [k, v] of init) m.set(k, v);
        return m;
      }
      case 'collections.defaultdict':
        return new Map<unknown, unknown>();
      case 'torch.Size':
        return toInts(args[0]);
      case 'builtins.set':
      case 'builtins.frozenset':
      case '__builtin__.set':
      case '__builtin__.frozenset':
        return new Set(Array.isArray(args[0]) ? args[0] : []);
      case 'builtins.list':
      case '__builtin__.list':
        return Array.isArray(args[0]) ? [...args[0]] : [];
      case 'builtins.tuple':
      case '__builtin__.tuple':
        return Array.isArray(args[0]) ? [...args[0]] : [];
      case 'builtins.slice':
      case '__builtin__.slice':
        return { slice: args };
      case 'builtins.complex':
      case '__builtin__.complex':
        return { re: args[0], im: args[1] ?? 0 };
      case 'builtins.bytearray':
      case 'builtins.bytes':
      case '__builtin__.bytearray':
        return args[0] instanceof PyBytes ? args[0] : new PyBytes(new Uint8Array(0));
      case '_codecs.encode': {
        // Protocol 2 writes bytes as _codecs.encode(str, 'latin1').
        const s = typeof args[0] === 'string' ? args[0] : '';
        return new PyBytes(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff));
      }
      case 'torch.device':
        return String(args[0]) + (args[1] !== undefined ? `:${args[1]}` : '');
      case 'copyreg._reconstructor':
      case 'copy_reg._reconstructor': {
        // (cls, base, state): base.__new__(cls, state), then base.__init__ unless base is object.
        const [cls, base] = args;
        if (!(base instanceof PyGlobal) || !RECONSTRUCTOR_BASES.has(base.fullName)) return unlisted(`copyreg._reconstructor with base ${typeName(base)}`);
        if (!(cls instanceof PyGlobal)) return unlisted(`copyreg._reconstructor of ${typeName(cls)}`);
        return new PyObject(cls.fullName, [], args[2] ?? undefined);
      }
      case 'copyreg.__newobj__':
      case 'copy_reg.__newobj__':
        return newObj(args[0], args.slice(1));
      case 'numpy.core.multiarray.scalar':
      case 'numpy._core.multiarray.scalar':
        return numpyScalar(args) ?? new PyObject(name, args);
      default:
        // The other listed constructors (numpy arrays, Namespace, datetime, paths): plain data.
        return new PyObject(name, args, undefined, kwargs);
    }
  };

  const setItems = (target: unknown, items: unknown[]) => {
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    let m: Map<unknown, unknown>;
    if (target instanceof Map) m = target;
    else if (target instanceof PyObject) m = target.dictItems ??= new Map();
    else return fail(`SETITEM on ${typeName(target)}`);
    for (let i = 0; i < items.length; i += 2) m.set(hashKey(items[i], keyCache), items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    // One by one: push(...items) overflows the call stack for wide lists.
    if (Array.isArray(target)) for (const x of items) target.push(x);
    else if (target instanceof PyObject) {
      const l = (target.listItems ??= []);
      for (const x of items) l.push(x);
    } else if (target instanceof Set) for (const x of items) target.add(x);
    else fail(`APPEND on ${typeName(target)}`);
  };
  const keyCache = new WeakMap<object, string>();
  const global = (module: string, name: string) => {
    if (isKnownCodeRunning(`${module}.${name}`)) {
      // Referencing is harmless, calling is not: refuse here so the error names the culprit early.
      fail(`refusing this file: its pickle references ${module}.${name}, which would run code if the file were loaded in Python; nothing was executed`);
    }
    return new PyGlobal(module, name);
  };

  while (true) {
    opPos = pos;
    if (pos >= data.length) fail('truncated pickle: no STOP opcode');
    const op = data[pos++];
    switch (op) {
      case 0x80: {
        const p = u8();
        if (p > 5) fail(`unsupported pickle protocol ${p}`);
        break;
      } // PROTO
      case 0x95:
        u64();
        break; // FRAME: framing is transparent
      case 0x2e: {
        // STOP
        if (stack.length === 0) fail('STOP with an empty stack');
        return { value: stack.pop(), end: pos };
      }
      case 0x28:
        marks.push(stack);
        stack = [];
        break; // MARK
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4a:
        stack.push(i32());
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
        stack.push(longFromBytes(bytes(u8())));
        break; // LONG1
      case 0x8b: {
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(longFromBytes(bytes(n)));
        break;
      }
      case 0x49:
        stack.push(parseIntText(line()));
        break; // INT
      case 0x4c:
        stack.push(parseIntText(line()));
        break; // LONG
      case 0x46:
        stack.push(parseFloat(line()));
        break; // FLOAT
      case 0x47: {
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      } // BINFLOAT (big-endian)
      case 0x53:
        stack.push(pyRepr(line()));
        break; // STRING
      case 0x54: {
        const n = i32();
        if (n < 0) fail('negative BINSTRING length');
        stack.push(latin1.decode(bytes(n)));
        break;
      }
      case 0x55:
        stack.push(latin1.decode(bytes(u8())));
        break; // SHORT_BINSTRING
      case 0x56:
        stack.push(line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
        break; // UNICODE
      case 0x58:
        stack.push(dec.decode(bytes(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(dec.decode(bytes(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(dec.decode(bytes(u64())));
        break; // BINUNICODE8
      case 0x42:
        stack.push(new PyBytes(bytes(u32())));
        break; // BINBYTES
      case 0x43:
        stack.push(new PyBytes(bytes(u8())));
        break; // SHORT_BINBYTES
      case 0x8e:
        stack.push(new PyBytes(bytes(u64())));
        break; // BINBYTES8
      case 0x96:
        stack.push(new PyBytes(bytes(u64())));
        break; // BYTEARRAY8
      case 0x97:
        fail('NEXT_BUFFER: out-of-band buffers are not supported');
        break;
      case 0x98:
        break; // READONLY_BUFFER: no-op on our data
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74:
        {
          const items = popMark();
          stack.push(items);
        }
        break; // TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop(),
          a = pop();
        stack.push([a, b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push([a, b, c]);
        break;
      } // TUPLE3
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c:
        {
          const items = popMark();
          stack.push(items);
        }
        break; // LIST
      case 0x61: {
        const v = pop();
        appendItems(top(), [v]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        appendItems(top(), items);
        break;
      } // APPENDS
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const items = popMark();
        const m = new Map();
        setItems(m, items);
        stack.push(m);
        break;
      } // DICT
      case 0x73: {
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x8f:
        stack.push(new Set());
        break; // EMPTY_SET
      case 0x90: {
        const items = popMark();
        appendItems(top(), items);
        break;
      } // ADDITEMS
      case 0x91:
        {
          const items = popMark();
          stack.push(new Set(items));
        }
        break; // FROZENSET
      case 0x67: {
        const k = parseInt(line(), 10);
        if (!memo.has(k)) fail(`GET of unknown memo key ${k}`);
        stack.push(memo.get(k));
        break;
      }
      case 0x68: {
        const k = u8();
        if (!memo.has(k)) fail(`BINGET of unknown memo key ${k}`);
        stack.push(memo.get(k));
        break;
      }
      case 0x6a: {
        const k = u32();
        if (!memo.has(k)) fail(`LONG_BINGET of unknown memo key ${k}`);
        stack.push(memo.get(k));
        break;
      }
      case 0x70:
        memo.set(parseInt(line(), 10), top());
        break; // PUT
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x63: {
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(),
          module = pop();
        if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const fn = pop();
        stack.push(call(fn, asArgs(args, fail)));
        break;
      } // REDUCE
      case 0x81: {
        const args = pop();
        const cls = pop();
        stack.push(newObj(cls, asArgs(args, fail)));
        break;
      } // NEWOBJ
      case 0x92: {
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        stack.push(newObj(cls, asArgs(args, fail), kwargs));
        break;
      } // NEWOBJ_EX
      case 0x69: {
        const module = line();
        const name = line();
        const args = popMark();
        stack.push(call(global(module, name), args));
        break;
      } // INST
      case 0x6f: {
        const items = popMark();
        const cls = items.shift();
        stack.push(call(cls, items));
        break;
      } // OBJ
      case 0x62: {
        // BUILD: obj.__setstate__(state) or __dict__.update(state), as data
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) {
          if (obj.state instanceof Map && state instanceof Map) for (const [k, v] of state) obj.state.set(k, v);
          else obj.state = state;
        } else if (isTensorRef(obj) || obj instanceof Map) {
          // Tensor/parameter state (hooks, python attributes) and OrderedDict state: not needed.
        } else {
          fail(`BUILD on ${typeName(obj)}`);
        }
        break;
      }
      case 0x50: {
        // PERSID
        const pid = line();
        stack.push(opts.persistentLoad ? opts.persistentLoad(pid) : fail('persistent id without a loader'));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        stack.push(opts.persistentLoad ? opts.persistentLoad(pid) : fail('persistent id without a loader'));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        fail(`extension registry opcode EXT${op === 0x82 ? 1 : op === 0x83 ? 2 : 4} is not supported (it names code by number)`);
        break;
      default:
        fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''}`);
    }
  }
}

function asArgs(args: unknown, fail: (m: string) => never): unknown[] {
  if (Array.isArray(args)) return args;
  if (args === null) return [];
  return fail(`call arguments are ${typeName(args)}, not a tuple`);
}

function toInts(v: unknown): number[] {
  if (!Array.isArray(v)) return [];
  return v.map((x) => Number(x));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let keyIds = 0;
/**
 * Dict keys: strings and numbers keep their identity in a Map; tuples become a string form, computed
 * once per tuple object (a memoized tuple reused in nested layers is not re-expanded) and replaced by
 * an identity past MAX_KEY_CHARS, so hashing is linear in the input.
 */
function hashKey(k: unknown, cache: WeakMap<object, string>): unknown {
  if (!Array.isArray(k)) return k;
  const hit = cache.get(k);
  if (hit !== undefined) return hit;
  let out = '(';
  for (const x of k) {
    const part = Array.isArray(x)
      ? (hashKey(x, cache) as string)
      : typeof x === 'string'
        ? JSON.stringify(x)
        : typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean' || x === null
          ? String(x)
          : `#${typeName(x)}:${++keyIds}`;
    out += `${part},`;
    if (out.length > MAX_KEY_CHARS) {
      out = `#tuple:${++keyIds}`;
      break;
    }
  }
  if (!out.startsWith('#')) out += ')';
  cache.set(k, out);
  return out;
}

const NUMPY_SCALARS: Record<string, [number, (v: DataView) => number | bigint]> = {
  f8: [8, (v) => v.getFloat64(0, true)],
  f4: [4, (v) => v.getFloat32(0, true)],
  i8: [8, (v) => v.getBigInt64(0, true)],
  i4: [4, (v) => v.getInt32(0, true)],
  i2: [2, (v) => v.getInt16(0, true)],
  i1: [1, (v) => v.getInt8(0)],
  u8: [8, (v) => v.getBigUint64(0, true)],
  u4: [4, (v) => v.getUint32(0, true)],
  u2: [2, (v) => v.getUint16(0, true)],
  u1: [1, (v) => v.getUint8(0)],
  b1: [1, (v) => v.getUint8(0)],
};

/** numpy.core.multiarray.scalar(dtype, bytes) for the plain numeric dtypes (e.g. best_fitness). */
function numpyScalar(args: unknown[]): number | bigint | undefined {
  const [dt, raw] = args;
  const code = dt instanceof PyObject && dt.className === 'numpy.dtype' ? String(dt.args[0]) : '';
  const spec = NUMPY_SCALARS[code];
  if (!spec || !(raw instanceof PyBytes) || raw.bytes.length !== spec[0]) return undefined;
  const v = spec[1](new DataView(raw.bytes.buffer, raw.bytes.byteOffset, spec[0]));
  return typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function typeName(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyObject) return v.className;
  if (v instanceof PyGlobal) return v.fullName;
  if (v instanceof Map) return 'dict';
  if (Array.isArray(v)) return 'tuple/list';
  if (isTensorRef(v)) return 'tensor';
  return typeof v;
}
