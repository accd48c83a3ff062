/** Renders a `RunReport` as JSON (the report model itself, stable for scripts and the skill). */
import type { RunReport } from './types.js';

/** Renders the report as pretty-printed JSON with a trailing newline. */
export function renderJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
