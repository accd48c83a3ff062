/** Small helpers for building and recognising diagnostics in the analysis stage. */
import type { Diagnostic } from '../plan/types.js';

/** True for a `Diagnostic` value (used to tell a parse result from its failure). */
export function isDiagnostic(value: unknown): value is Diagnostic {
  return (
    typeof value === 'object' &&
    value !== null &&
    'severity' in value &&
    'code' in value &&
    'message' in value &&
    !('name' in value)
  );
}

/** `plan.md:42: ` — the compiler-style location prefix our messages start with. */
export function where(file: string | undefined, line: number | undefined): string {
  if (file === undefined) return '';
  return line === undefined ? `${file}: ` : `${file}:${line}: `;
}
