/** Reading agent CLIs' JSON events by key name, never trusting their shape. */

/** A JSON object, or undefined. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** Parses one line as a JSON object; undefined for anything else (blank lines, garbage, arrays). */
export function parseJsonLine(line: string): JsonObject | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `value` is a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value[key]` as an object. */
export function obj(value: unknown, key: string): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  const v = value[key];
  return isObject(v) ? v : undefined;
}

/** `value[key]` as a string. */
export function str(value: unknown, key: string): string | undefined {
  if (!isObject(value)) return undefined;
  const v = value[key];
  return typeof v === 'string' ? v : undefined;
}

/** `value[key]` as a finite number. */
export function num(value: unknown, key: string): number | undefined {
  if (!isObject(value)) return undefined;
  const v = value[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `value[key]` as a boolean. */
export function bool(value: unknown, key: string): boolean | undefined {
  if (!isObject(value)) return undefined;
  const v = value[key];
  return typeof v === 'boolean' ? v : undefined;
}

/** `value[key]` as an array. */
export function arr(value: unknown, key: string): readonly unknown[] {
  if (!isObject(value)) return [];
  const v = value[key];
  return Array.isArray(v) ? v : [];
}

/** First line of a text, clipped for progress views. */
export function clip(text: string, max = 200): string {
  const line = text.trim().split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Reads an agent CLI's stdout as JSON lines, counting events and unparseable lines. The counts tell a
 * truncated stream (events, then nothing) from a CLI that never spoke JSON at all.
 */
export class JsonLineReader {
  events = 0;
  garbage = 0;

  constructor(private readonly cli: string) {}

  /** The line's event; for a blank line `null`; for garbage `undefined` after counting it. */
  read(line: string): JsonObject | null | undefined {
    if (line.trim() === '') return null;
    const event = parseJsonLine(line);
    if (event === undefined) this.garbage++;
    else this.events++;
    return event;
  }

  /** A warning for the latest unparseable line (the first 20 only, so garbage cannot flood the journal). */
  garbageWarning(line: string): string | undefined {
    return this.garbage <= 20 ? `unparseable output line from ${this.cli}: ${clip(line, 120)}` : undefined;
  }

  /** " (N unparseable lines)" for failure messages, or nothing. */
  garbageNote(): string {
    return this.garbage > 0 ? ` (${this.garbage} unparseable lines)` : '';
  }
}
