import * as yaml from 'js-yaml';
import { Parsed } from '../problem';

/**
 * Loads a single-document YAML file with the YAML 1.2 core schema: no custom tags, no
 * timestamps (a date stays a string), `yes`/`no` stay strings. An empty file is `undefined`.
 * A syntax error is a problem naming the line, never an exception.
 */
export function loadYamlDocument(text: string, file: string): Parsed<unknown> {
  try {
    return { value: yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA }), problems: [] };
  } catch (err) {
    return { value: undefined, problems: [{ file, message: describeYamlError(err), severity: 'error' }] };
  }
}

function describeYamlError(err: unknown): string {
  if (err instanceof yaml.YAMLException) {
    const where = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return `invalid YAML${where}: ${err.reason}; fix the syntax (the last good content stays in use)`;
  }
  // js-yaml can also run out of stack on absurdly deep nesting; still a problem, not a crash.
  const reason = err instanceof Error ? err.message : String(err);
  return `cannot read as YAML: ${reason}`;
}
