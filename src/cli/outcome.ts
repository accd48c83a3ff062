/**
 * What a command ended with, as data: commands record it and `main` alone maps it to an exit code, so
 * the mapping lives in one place.
 */
import type { RunStatus } from '../run/types.js';

/** How a command that finished without an error ended. */
export type CommandOutcome =
  /** `analyze` ended; `failed`: the plan has errors (or `--assist` got no valid reply). */
  | { readonly kind: 'analysed'; readonly failed: boolean }
  | { readonly kind: 'run-ended'; readonly status: RunStatus }
  /** `status --watch` ended: the run finished (status), its process vanished, or the user stopped watching. */
  | { readonly kind: 'watch-ended'; readonly status: RunStatus | null; readonly stoppedWatching: boolean };

let current: CommandOutcome | null = null;

/** Records the outcome of the command being run. */
export function setOutcome(outcome: CommandOutcome): void {
  current = outcome;
}

/** The recorded outcome (null: none, a plain success), cleared for the next command. */
export function takeOutcome(): CommandOutcome | null {
  const outcome = current;
  current = null;
  return outcome;
}
