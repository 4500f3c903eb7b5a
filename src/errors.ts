/**
 * Error classes the CLI maps to exit code 1 with a one-line message and no stack trace.
 * Anything else that escapes is an internal error (stack shown with --verbose only).
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * A fault of the host that a value of the spec runs into (a user the host does not have, a zone
 * its tzdata lacks): thrown by a kind's diff with the value's path in the spec, so the planner
 * reports it at FILE:LINE:COL like a validation error.
 */
export class SpecValueError extends UserError {
  constructor(
    readonly at: (string | number)[],
    message: string,
  ) {
    super(message);
    this.name = 'SpecValueError';
  }
}

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
  severity: 'error' | 'warning';
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

/** A spec that failed validation: every diagnostic is FILE:LINE:COL: message. */
export class SpecError extends UserError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'SpecError';
  }
}
