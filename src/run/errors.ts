/** The run layer's expected failures, as values with stable codes (the CLI maps them to exit codes). */

/** Why a run could not be started, resumed or read. */
export type RunErrorCode =
  | 'locked'
  | 'bad-base'
  | 'no-commits'
  | 'not-found'
  | 'finished'
  | 'corrupt'
  | 'bad-retry'
  /** The validation commands fail on the base commit itself (the run stopped before any agent). */
  | 'baseline-failed';

/** An expected failure of the engine (a locked repository, a bad base, an unknown or finished run). */
export class RunError extends Error {
  constructor(
    readonly code: RunErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RunError';
  }
}
