// JSON text in chunks, byte-identical to JSON.stringify(value, null, indent), so a large report is
// written piece by piece and never has to fit in one JavaScript string (V8 caps strings at ~512 MB).
// Iterative (an explicit stack), so deep nesting cannot overflow the call stack either.

const CHUNK = 1 << 16;

type Frame = { kind: 'array'; items: unknown[]; i: number; pad: string; any: boolean } | { kind: 'object'; entries: [string, unknown][]; i: number; pad: string; any: boolean };

/** Yields the JSON text of `value` in chunks of about 64 KB. */
export function* jsonChunks(value: unknown, indent = 1): Generator<string> {
  const step = ' '.repeat(indent);
  const nl = indent > 0 ? '\n' : '';
  const colon = indent > 0 ? ': ' : ':';
  let buf = '';
  const stack: Frame[] = [];
  // Writes a value: a leaf directly, a container by pushing a frame. Returns false when the value
  // is omitted in an object (undefined, functions, symbols), as JSON.stringify does.
  const open = (v: unknown, key: string, pad: string): boolean => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return false;
    if (v === null || typeof v !== 'object' || v instanceof Number || v instanceof String || v instanceof Boolean) {
      const s = JSON.stringify(v);
      if (s === undefined) return false;
      buf += s;
      return true;
    }
    if (Array.isArray(v)) stack.push({ kind: 'array', items: v, i: 0, pad, any: false });
    else stack.push({ kind: 'object', entries: Object.entries(v as object), i: 0, pad, any: false });
    buf += Array.isArray(v) ? '[' : '{';
    return true;
  };
  if (!open(value, '', '')) return;
  while (stack.length) {
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
    const f = stack[stack.length - 1];
    const inner = f.pad + step;
    if (f.kind === 'array') {
      if (f.i >= f.items.length) {
        buf += f.any ? `${nl}${f.pad}]` : ']';
        stack.pop();
        continue;
      }
      const idx = f.i++;
      buf += `${f.any ? ',' : ''}${nl}${inner}`;
      f.any = true;
      if (!open(f.items[idx], String(idx), inner)) buf += 'null';
    } else {
      if (f.i >= f.entries.length) {
        buf += f.any ? `${nl}${f.pad}}` : '}';
        stack.pop();
        continue;
      }
      const [k, v] = f.entries[f.i++];
      const mark = buf.length;
      buf += `${f.any ? ',' : ''}${nl}${inner}${JSON.stringify(k)}${colon}`;
      if (open(v, k, inner)) f.any = true;
      else buf = buf.slice(0, mark);
    }
  }
  if (buf) yield buf;
}

/** The chunks, then a final newline (as a text file ends). */
export function* withNewline(chunks: Iterable<string>): Generator<string> {
  yield* chunks;
  yield '\n';
}
