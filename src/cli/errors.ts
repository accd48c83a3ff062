/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  /** The plan has errors, or a run ended with failed streams. */
  failure: 1,
  /** Usage error: missing file, bad flag. */
  usage: 2,
  /** Interrupted (Ctrl-C); the run can be resumed. */
  interrupted: 130,
} as const;

/** An expected CLI failure: printed as `maestro: <message>` and mapped to an exit code; never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Parses a positive integer flag value, or throws a usage error naming the flag. */
export function parsePositiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new CliError(`${flag} expects a positive whole number, got "${value}"`);
    return n;
  };
}
