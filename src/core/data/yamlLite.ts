// The subset of YAML that YOLO data files use: top-level `key: value` pairs, flow lists
// (`names: [a, 'b c']`), block lists (`- a`) and block maps of class ids (`0: person`), comments.
// Anything else is a clear error naming the file rather than a silent misread.
import { FormatError } from '../errors';

export type YamlValue = string | number | YamlValue[] | { [k: string]: YamlValue } | null;

function scalar(raw: string): string | number | null {
  const s = raw.trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if ((s.startsWith("'") && s.endsWith("'")) || (s.startsWith('"') && s.endsWith('"'))) return s.slice(1, -1);
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  return s;
}

function stripComment(line: string): string {
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) { if (c === q) q = null; } else if (c === "'" || c === '"') q = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

function flowList(s: string, file: string, lineNo: number): YamlValue[] {
  const inner = s.trim().slice(1, -1);
  const items: string[] = [];
  let cur = '';
  let q: string | null = null;
  for (const c of inner) {
    if (q) { cur += c; if (c === q) q = null; continue; }
    if (c === "'" || c === '"') { q = c; cur += c; continue; }
    if (c === '[' || c === '{') throw new FormatError(file, `line ${lineNo}: nested lists are not supported in a data file`);
    if (c === ',') { items.push(cur); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim() !== '') items.push(cur);
  return items.map((x) => scalar(x)).filter((x) => x !== null) as YamlValue[];
}

export function parseYamlLite(text: string, file: string): Record<string, YamlValue> {
  const out: Record<string, YamlValue> = {};
  const lines = text.split(/\r?\n/);
  let key: string | null = null; // top-level key whose block value is being read
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i]).replace(/\s+$/, '');
    if (line.trim() === '' || line.trim() === '---') continue;
    const indented = /^\s/.test(line);
    const t = line.trim();
    if (!indented) {
      const m = /^([^:]+):(.*)$/.exec(t);
      if (!m) throw new FormatError(file, `line ${i + 1}: expected "key: value", got "${t}"`);
      key = scalar(m[1]) as string;
      const v = m[2].trim();
      if (v === '') out[key] = null;
      else if (v.startsWith('[')) {
        if (!v.endsWith(']')) throw new FormatError(file, `line ${i + 1}: a list that spans several lines is not supported; write it on one line`);
        out[key] = flowList(v, file, i + 1);
      } else if (v.startsWith('{')) throw new FormatError(file, `line ${i + 1}: inline maps are not supported; write one "id: name" per line`);
      else out[key] = scalar(v);
      continue;
    }
    if (key === null) throw new FormatError(file, `line ${i + 1}: indented line without a key above it`);
    const cur = out[key];
    if (t.startsWith('- ') || t === '-') {
      if (cur !== null && !Array.isArray(cur)) throw new FormatError(file, `line ${i + 1}: "${key}" mixes a value and list items`);
      const list = (cur as YamlValue[] | null) ?? [];
      list.push(scalar(t.slice(1)));
      out[key] = list;
      continue;
    }
    const m = /^([^:]+):(.*)$/.exec(t);
    if (!m) throw new FormatError(file, `line ${i + 1}: cannot read "${t}"`);
    if (cur !== null && (typeof cur !== 'object' || Array.isArray(cur))) throw new FormatError(file, `line ${i + 1}: "${key}" mixes a value and map entries`);
    const map = (cur as Record<string, YamlValue> | null) ?? {};
    map[String(scalar(m[1]))] = scalar(m[2]);
    out[key] = map;
  }
  return out;
}
