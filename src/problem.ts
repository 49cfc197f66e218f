/**
 * A problem found in an input: where it is (file, document, field) and what is wrong.
 * Every parser returns these instead of throwing, so one broken file never hides the rest.
 */
export interface Problem {
  /** Path of the file (or a label such as "<settings>" for command-line input). */
  file: string;
  /** 0-based index of the YAML/JSON document in a multi-document file; line number for line formats. */
  document?: number;
  /** Dotted path of the offending field, e.g. `spec.addresses[1]`. */
  field?: string;
  message: string;
  severity?: 'error' | 'warning';
}

/** `file:document:field: message`, the format `meshdns check` prints. */
export function formatProblem(p: Problem): string {
  const doc = p.document === undefined ? '-' : String(p.document);
  const field = p.field === undefined || p.field === '' ? '-' : p.field;
  return `${p.file}:${doc}:${field}: ${p.message}`;
}

/** The outcome of parsing one input: a value (possibly partial) plus every problem seen. */
export interface Parsed<T> {
  value: T;
  problems: Problem[];
}
