import { Parsed, Problem } from '../problem';
import { extractBootstrapValues } from './bootstrapValues';
import { BootstrapValues } from './types';

/** One `KEY=value` line of cluster.env. */
export interface EnvAssignment {
  key: string;
  value: string;
  /** 1-based line number. */
  line: number;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads cluster.env as istioctl writes it and the bootstrap sources it with a shell: `KEY='value'`
 * lines, `'"'"'` for an embedded single quote, also double-quoted and bare values, `export`, `#`
 * comments, blank lines, CRLF. No variable expansion: `$X` stays literal. A malformed line is a
 * problem (document = line number) and the other lines still count; a repeated key takes the
 * last value, as the shell does.
 */
export function parseClusterEnvAssignments(text: string, file: string): Parsed<EnvAssignment[]> {
  const assignments: EnvAssignment[] = [];
  const problems: Problem[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = index + 1;
    const content = (index === 0 ? rawLine.replace(/^\uFEFF/, '') : rawLine).trim();
    if (content === '' || content.startsWith('#')) return;
    const statement = content.replace(/^export\s+/, '');
    const equals = statement.indexOf('=');
    if (equals < 0) {
      problems.push({ file, document: line, message: `expected KEY=value, found ${JSON.stringify(shorten(statement))}`, severity: 'error' });
      return;
    }
    const key = statement.slice(0, equals);
    if (!KEY.test(key)) {
      problems.push({ file, document: line, ...(key === '' ? {} : { field: key }), message: `${JSON.stringify(shorten(key))} is not a variable name (letters, digits, "_")`, severity: 'error' });
      return;
    }
    const value = readShellWord(statement.slice(equals + 1));
    if (!value.ok) {
      problems.push({ file, document: line, field: key, message: value.reason, severity: 'error' });
      return;
    }
    assignments.push({ key, value: value.word, line });
  });
  return { value: assignments, problems };
}

/** cluster.env as a map of variables (later lines win). */
export function parseClusterEnv(text: string, file: string): Parsed<Record<string, string>> {
  const parsed = parseClusterEnvAssignments(text, file);
  const vars: Record<string, string> = {};
  // defineProperty, so a key such as __proto__ is stored as data rather than ignored.
  for (const { key, value } of parsed.value) Object.defineProperty(vars, key, { value, enumerable: true, writable: true, configurable: true });
  return { value: vars, problems: parsed.problems };
}

/** What meshdns takes from cluster.env's variables (namespace, DNS capture, auto-allocation). */
export function bootstrapFromClusterEnv(vars: Readonly<Record<string, string>>, file = 'cluster.env'): Parsed<BootstrapValues> {
  return extractBootstrapValues((name) => (Object.prototype.hasOwnProperty.call(vars, name) ? { value: vars[name], field: name } : undefined), file);
}

/** cluster.env text → bootstrap values, with line numbers on every problem. */
export function parseClusterEnvBootstrap(text: string, file: string): Parsed<BootstrapValues> {
  const parsed = parseClusterEnvAssignments(text, file);
  const latest = new Map<string, EnvAssignment>();
  for (const assignment of parsed.value) latest.set(assignment.key, assignment);
  const bootstrap = extractBootstrapValues((name) => {
    const found = latest.get(name);
    return found === undefined ? undefined : { value: found.value, field: name, document: found.line };
  }, file);
  return { value: bootstrap.value, problems: [...parsed.problems, ...bootstrap.problems] };
}

type Word = { ok: true; word: string } | { ok: false; reason: string };

/**
 * One shell word: a run of single-quoted, double-quoted and bare pieces. Whitespace ends it; only
 * a `#` comment may follow.
 */
function readShellWord(text: string): Word {
  let word = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return { ok: false, reason: 'unterminated single quote' };
      word += text.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      const piece = readDoubleQuoted(text, i + 1);
      if (piece === undefined) return { ok: false, reason: 'unterminated double quote' };
      word += piece.text;
      i = piece.end;
    } else if (c === ' ' || c === '\t') {
      const rest = text.slice(i).trim();
      if (rest === '' || rest.startsWith('#')) break;
      return { ok: false, reason: `unexpected text after the value: ${JSON.stringify(shorten(rest))} (quote a value that contains spaces)` };
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { ok: false, reason: 'a trailing backslash (line continuation) is not supported' };
      word += text[i + 1];
      i += 2;
    } else {
      word += c;
      i += 1;
    }
  }
  return { ok: true, word };
}

/** Inside "...": backslash escapes only ", \, $ and `, as in POSIX sh. */
function readDoubleQuoted(text: string, start: number): { text: string; end: number } | undefined {
  let out = '';
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return { text: out, end: i + 1 };
    if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) {
      out += text[i + 1];
      i += 1;
    } else {
      out += c;
    }
  }
  return undefined;
}

function shorten(text: string): string {
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}
