import { formatProblem, type Problem } from '../problem';

/** The log calls a ProblemLog makes (pino's shape). */
export interface ProblemSink {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * Logs each reload's problems, but only those the last reload did not already report: a broken
 * file is reported once per change, not at every reload until it is fixed. A problem that went
 * away and came back is reported again.
 */
export class ProblemLog {
  private reported = new Set<string>();

  constructor(private readonly log: ProblemSink) {}

  report(problems: readonly Problem[]): void {
    const current = new Set<string>();
    for (const p of problems) {
      const text = formatProblem(p);
      current.add(text);
      if (this.reported.has(text)) continue;
      this.log[p.severity === 'warning' ? 'warn' : 'error']({ file: p.file, document: p.document, field: p.field }, text);
    }
    this.reported = current;
  }
}
