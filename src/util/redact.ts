/**
 * Secrets never reach anything Maestro writes or prints (journal, state, reports, `--json`, live view,
 * agent logs): known token shapes, and the values of environment variables whose names look secret,
 * become `[redacted]`. Applied where text enters Maestro (agent output, gate output, git messages) and
 * again where it leaves (journal lines, state), so one missed path does not leak.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Token shapes of the common vendors (Anthropic, OpenAI, GitHub, AWS, Slack, Google) and HTTP bearer
 * credentials. Each is specific enough not to match ordinary prose or file names.
 */
const TOKEN_SHAPES: readonly RegExp[] = [
  /\bsk-ant-[A-Za-z0-9_-]{8,}/g,
  /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{8,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
];
/** `Bearer <credential>`: the word stays, so the message still says what was sent. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{12,}/gi;

/** Environment variable names whose values are secrets. */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;

/** Values too short or too common to hide without garbling ordinary text. */
function worthHiding(value: string): boolean {
  return value.length >= 8 && !/^(?:true|false|null|undefined|\d+)$/i.test(value);
}

/** Replaces secrets in text. Build one per process (`redact` uses the process's environment). */
export class Redactor {
  readonly #values: readonly string[];

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const values = new Set<string>();
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && SECRET_NAME.test(name) && worthHiding(value)) values.add(value);
    }
    // Longest first, so a value containing another is hidden whole.
    this.#values = [...values].sort((a, b) => b.length - a.length);
  }

  /** The text with every secret replaced by `[redacted]`. */
  text(input: string): string {
    let out = input;
    for (const value of this.#values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    // Cheap pre-checks: most text has none of these markers, and then no regex runs.
    if (/sk-|gh[pousr]_|github_pat_|AKIA|ASIA|xox|AIza/.test(out))
      for (const shape of TOKEN_SHAPES) out = out.replace(shape, REDACTED);
    if (/bearer/i.test(out)) out = out.replace(BEARER, `$1${REDACTED}`);
    return out;
  }

  /** A copy of a JSON-like value with every string (keys too) redacted. */
  deep<T>(value: T): T {
    return this.#deep(value) as T;
  }

  #deep(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.#deep(v));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.text(k)] = this.#deep(v);
      return out;
    }
    return value;
  }
}

let shared: Redactor | null = null;

/** The process-wide redactor (secret values from `process.env`, read once). */
export function redactor(): Redactor {
  shared ??= new Redactor();
  return shared;
}

/** `text` with secrets replaced by `[redacted]`. */
export function redact(text: string): string {
  return redactor().text(text);
}

/** A JSON-like value with secrets in its strings replaced by `[redacted]`. */
export function redactDeep<T>(value: T): T {
  return redactor().deep(value);
}
