import { load, DEFAULT_SCHEMA, YAMLException } from 'js-yaml';
import type { Parsed, Problem } from '../problem';
import { isPlainObject, own } from './fields';

/**
 * One manifest of a registry file. `index` is "3" for the fourth document of the file and
 * "3.1" for the second item of a `kind: List` (or `ServiceList`, …) in that document.
 */
export interface SplitDocument {
  index: string;
  doc: unknown;
}

/**
 * A registry file → its documents. JSON (first non-space character `{` or `[`) is parsed as JSON
 * so a syntax error names its line and column; a top-level JSON array counts as one document per
 * element. Anything else is multi-document YAML, parsed document by document so that a syntax
 * error in one document still lets the others through. Empty documents are skipped but keep
 * their index, so indices match what `kubectl` and js-yaml's `loadAll` count.
 */
export function splitDocuments(text: string, file: string): Parsed<SplitDocument[]> {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const firstChar = source.trimStart().charAt(0);
  const raw = firstChar === '{' || firstChar === '[' ? parseJsonOrYaml(source, file) : parseYamlDocuments(source, file);
  const documents: SplitDocument[] = [];
  const problems = [...raw.problems];
  for (const { index, doc } of raw.value) {
    if (doc === null || doc === undefined) continue;
    flattenList(index, doc, file, documents, problems);
  }
  return { value: documents, problems };
}

interface RawDocument {
  index: number;
  doc: unknown;
}

function parseJsonOrYaml(source: string, file: string): Parsed<RawDocument[]> {
  try {
    const value: unknown = JSON.parse(source);
    const docs = Array.isArray(value) ? value : [value];
    return { value: docs.map((doc, index) => ({ index, doc })), problems: [] };
  } catch (jsonError) {
    // JSON is a subset of YAML only in spirit: a flow-style YAML file (`{a: 1}`) is fine too.
    const asYaml = parseYamlDocuments(source, file);
    if (asYaml.problems.length === 0) return asYaml;
    return { value: [], problems: [{ file, document: 0, message: jsonErrorMessage(jsonError, source) }] };
  }
}

/** V8 says "… at position N" (Node 18) or "… (line L column C)" (Node 20+): turn both into line and column. */
function jsonErrorMessage(error: unknown, source: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const positionMatch = /at position (\d+)/.exec(message);
  const position = positionMatch ? Number(positionMatch[1]) : source.length;
  const { line, column } = lineAndColumn(source, Math.min(position, source.length));
  const reason = message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)\s*$/, '');
  return `JSON syntax error at line ${line}, column ${column}: ${reason}; fix the file or write it as YAML`;
}

function lineAndColumn(source: string, position: number): { line: number; column: number } {
  const before = source.slice(0, position);
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: position - lastNewline };
}

const DOCUMENT_START = /^---(?:[ \t\r]|$)/;
const DOCUMENT_END = /^\.\.\.(?:[ \t\r]|$)/;
/** Lines that do not start a document's content: blank, comments, directives (`%YAML 1.2`). */
const PREAMBLE_LINE = /^(?:[ \t\r]*(?:#.*)?|%.*)$/;

interface Chunk {
  firstLine: number;
  lines: string[];
  /** Has a `---` marker or content; a further `---` then starts the next document. */
  started: boolean;
}

/**
 * YAML forbids `---` and `...` at the start of a line anywhere but as document markers (even
 * inside quoted or block scalars), so cutting the text at those lines gives exactly the
 * documents a YAML parser sees, and each can be parsed (and fail) on its own.
 */
function chunkYaml(source: string): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk = { firstLine: 0, lines: [], started: false };
  const lines = source.split('\n');
  lines.forEach((line, lineNumber) => {
    if (DOCUMENT_START.test(line) && current.started) {
      chunks.push(current);
      current = { firstLine: lineNumber, lines: [], started: false };
    }
    current.lines.push(line);
    if (DOCUMENT_START.test(line) || !PREAMBLE_LINE.test(line)) current.started = true;
    if (DOCUMENT_END.test(line)) {
      chunks.push(current);
      current = { firstLine: lineNumber + 1, lines: [], started: false };
    }
  });
  // A trailing chunk of only blank lines and comments is no document (`a: 1\n---\n` is one document).
  if (current.started || chunks.length === 0) chunks.push(current);
  return chunks;
}

function parseYamlDocuments(source: string, file: string): Parsed<RawDocument[]> {
  const value: RawDocument[] = [];
  const problems: Problem[] = [];
  chunkYaml(source).forEach((chunk, index) => {
    try {
      value.push({ index, doc: load(chunk.lines.join('\n'), { schema: DEFAULT_SCHEMA, filename: file }) });
    } catch (error) {
      problems.push({ file, document: index, message: yamlErrorMessage(error, chunk.firstLine) });
    }
  });
  return { value, problems };
}

function yamlErrorMessage(error: unknown, firstLine: number): string {
  if (error instanceof YAMLException && error.mark !== undefined && error.mark !== null) {
    const line = firstLine + error.mark.line + 1;
    const column = error.mark.column + 1;
    return `YAML syntax error at line ${line}, column ${column}: ${error.reason}`;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return `cannot read this YAML document: ${reason}`;
}

/** `List` and typed lists (`ServiceList`, `ServiceEntryList`) carry their objects in `items`. */
function isListKind(kind: unknown): kind is string {
  return typeof kind === 'string' && kind.endsWith('List');
}

function flattenList(index: number, doc: unknown, file: string, out: SplitDocument[], problems: Problem[]): void {
  const kind = own(doc, 'kind');
  const items = own(doc, 'items');
  // A CRD may well be called `SomethingList`; only a document with an `items` list is flattened.
  const flatten = isListKind(kind) && (Array.isArray(items) || kind === 'List');
  if (!flatten) {
    out.push({ index: String(index), doc });
    return;
  }
  if (items === undefined || items === null) return;
  if (!Array.isArray(items)) {
    problems.push({ file, document: index, field: 'items', message: `${kind} has "items" that is not a list` });
    return;
  }
  // The API server leaves apiVersion/kind out of the items of a typed list; kubectl fills them in.
  const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  const listApiVersion = own(doc, 'apiVersion');
  items.forEach((item: unknown, itemIndex) => {
    if (item === null || item === undefined) return;
    if (isListKind(own(item, 'kind')) && Array.isArray(own(item, 'items'))) {
      problems.push({
        file,
        document: index,
        field: `items[${itemIndex}]`,
        message: 'a List inside a List is not supported: put its items in the outer list',
      });
      return;
    }
    out.push({ index: `${index}.${itemIndex}`, doc: withInferredKind(item, itemKind, listApiVersion) });
  });
}

function withInferredKind(item: unknown, kind: string | undefined, apiVersion: unknown): unknown {
  if (kind === undefined || !isPlainObject(item) || own(item, 'kind') !== undefined) return item;
  const filled: Record<string, unknown> = { kind, ...item };
  if (own(item, 'apiVersion') === undefined && apiVersion !== undefined) filled.apiVersion = apiVersion;
  return filled;
}
