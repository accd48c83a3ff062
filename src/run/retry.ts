/**
 * `maestro retry`: which streams of a finished run run again. Pure: takes the run's state and the
 * analysis's dependencies, returns the streams to reset (or why there are none).
 */
import type { Analysis } from '../analyze/types.js';
import type { RunState } from './types.js';

/** The streams to reset, or why the request cannot be met. */
export type RetrySelection =
  | { readonly ok: true; readonly streamIds: readonly string[] }
  | { readonly ok: false; readonly message: string };

/**
 * The failed streams (all of them, or those in `requested`) plus every skipped stream that depends on
 * one of them, directly or through others: those were skipped only because of the failure. Merged
 * streams are never in it: their work stays on the integration branch.
 */
export function streamsToRetry(
  state: RunState,
  analysis: Pick<Analysis, 'streams'>,
  requested: readonly string[] = [],
): RetrySelection {
  const status = (id: string) => state.streams[id]?.status;
  for (const id of requested) {
    const s = status(id);
    if (s === undefined)
      return {
        ok: false,
        message: `run ${state.runId} has no stream ${id} (its streams: ${Object.keys(state.streams).join(', ')})`,
      };
    if (s !== 'failed' && s !== 'skipped')
      return { ok: false, message: `stream ${id} is ${s}; only failed or skipped streams can be retried` };
  }
  const chosen = new Set(
    requested.length > 0
      ? requested
      : Object.values(state.streams)
          .filter((s) => s.status === 'failed')
          .map((s) => s.id),
  );
  if (chosen.size === 0)
    return {
      ok: false,
      message: `run ${state.runId} has no failed streams to retry (it is ${state.status})`,
    };
  // Dependants skipped because of a chosen stream, to a fixed point (a chain of skips).
  for (let grown = true; grown;) {
    grown = false;
    for (const stream of analysis.streams) {
      if (chosen.has(stream.id) || status(stream.id) !== 'skipped') continue;
      if ([...stream.dependsOn, ...stream.implicitDependsOn].some((d) => chosen.has(d))) {
        chosen.add(stream.id);
        grown = true;
      }
    }
  }
  const order = analysis.streams.map((s) => s.id).filter((id) => chosen.has(id));
  return { ok: true, streamIds: order };
}
