// data.yaml files are real YAML (block or flow maps of class names, anchors, comments): parse them
// with the `yaml` package, and turn its syntax errors into errors that name the file and line.
import { parse, YAMLParseError } from 'yaml';
import { FormatError } from '../errors';

export type YamlValue = string | number | boolean | YamlValue[] | { [k: string]: YamlValue } | null;

export function parseYaml(text: string, file: string): YamlValue {
  try {
    return parse(text, { uniqueKeys: true, maxAliasCount: 100 }) as YamlValue;
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0] ? `line ${err.linePos[0].line}: ` : '';
      throw new FormatError(`${where}not valid YAML (${err.message.split('\n')[0]})`, file);
    }
    // e.g. the parser's guard against alias bombs ("Excessive alias count ..."): still the file's fault.
    throw new FormatError(`not valid YAML (${(err as Error).message.split('\n')[0]})`, file);
  }
}
