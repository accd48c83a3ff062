/**
 * The scheduler: a pure function from stream states to the streams to start now.
 * It decides *what* runs; a `StreamExecutor` decides *where*. No I/O, no clocks.
 */
import type { ScheduleMode, StreamStatus } from './types.js';
import { isTerminal, unreachable } from './types.js';

/** What the scheduler needs to know about one stream. */
export interface SchedulerStream {
  readonly id: string;
  /** Explicit and implicit dependencies. */
  readonly deps: readonly string[];
}

export interface SchedulerInput {
  readonly mode: ScheduleMode;
  readonly maxParallel: number;
  /** Streams in priority order (critical path first). */
  readonly streams: readonly SchedulerStream[];
  readonly status: ReadonlyMap<string, StreamStatus>;
  /** Topological waves of stream ids (for `waves`). */
  readonly waves: readonly (readonly string[])[];
  /** Streams on the critical path (for `hybrid`). */
  readonly criticalPath: ReadonlySet<string>;
}

/**
 * True when a stream holds one of the `maxParallel` slots: its agent runs. A stream waiting to merge
 * holds none, except in `sequential` mode, where one stream at a time goes from start to merge.
 */
export function isActive(status: StreamStatus, mode: ScheduleMode): boolean {
  return status === 'running' || (mode === 'sequential' && status === 'committed');
}

/** True when a stream has not started (or was interrupted) and may be started. */
function isStartable(status: StreamStatus): boolean {
  return status === 'pending' || status === 'interrupted';
}

/** The index of the first wave that still has unfinished streams, or -1 when all are done. */
export function currentWave(input: Pick<SchedulerInput, 'waves' | 'status'>): number {
  return input.waves.findIndex((wave) =>
    wave.some((id) => {
      const s = input.status.get(id);
      return s !== undefined && !isTerminal(s);
    }),
  );
}

/** Streams whose dependencies are all merged and that are not started yet, in priority order. */
export function readyStreams(input: SchedulerInput): string[] {
  return input.streams
    .filter((s) => {
      const status = input.status.get(s.id);
      return (
        status !== undefined && isStartable(status) && s.deps.every((d) => input.status.get(d) === 'merged')
      );
    })
    .map((s) => s.id);
}

/** Streams to start now, in priority order, respecting the mode and `maxParallel`. */
export function streamsToStart(input: SchedulerInput): string[] {
  const active = input.streams.filter((s) => {
    const status = input.status.get(s.id);
    return status !== undefined && isActive(status, input.mode);
  });
  let ready = readyStreams(input);
  let limit = input.maxParallel;
  switch (input.mode) {
    case 'dag':
      break;
    case 'sequential':
      limit = 1;
      break;
    case 'waves': {
      const wave = currentWave(input);
      const members = new Set(wave >= 0 ? input.waves[wave] : []);
      ready = ready.filter((id) => members.has(id));
      break;
    }
    case 'hybrid': {
      // Critical-path streams run as soon as they are ready; the rest one at a time beside them.
      const offPathActive = active.filter((s) => !input.criticalPath.has(s.id)).length;
      let offPathBudget = offPathActive > 0 ? 0 : 1;
      ready = ready.filter((id) => {
        if (input.criticalPath.has(id)) return true;
        if (offPathBudget > 0) {
          offPathBudget -= 1;
          return true;
        }
        return false;
      });
      break;
    }
    default:
      return unreachable(input.mode);
  }
  const free = Math.max(0, limit - active.length);
  return ready.slice(0, free);
}

/** Every stream that depends, directly or transitively, on `id`. */
export function dependantsOf(streams: readonly SchedulerStream[], id: string): string[] {
  const result = new Set<string>();
  let frontier = [id];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const s of streams) {
      if (result.has(s.id)) continue;
      if (s.deps.some((d) => frontier.includes(d))) {
        result.add(s.id);
        next.push(s.id);
      }
    }
    frontier = next;
  }
  return [...result];
}
