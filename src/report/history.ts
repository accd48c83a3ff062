/**
 * Folds the journal into each stream's history: timeline segments, milestone times, validation results,
 * retries, conflicts and ownership findings. Status, usage and changed files come from `run/state.ts`.
 */
import type { RunEvent } from '../run/types.js';
import { unreachable } from '../run/types.js';
import type { SegmentKind, StreamTiming, TimelineSegment, ValidationReport } from './types.js';

/** What the report needs from one stream's events beyond its replayed state. */
export interface StreamHistory {
  readonly segments: TimelineSegment[];
  readonly timing: StreamTiming;
  readonly validations: ValidationReport[];
  readonly retryReasons: string[];
  readonly mergeConflicts: (readonly string[])[];
  readonly ownershipViolations: { readonly paths: readonly string[]; readonly mode: 'fail' | 'warn' }[];
}

type OpenKind = Extract<SegmentKind, 'waiting' | 'running' | 'validating'>;

interface Track {
  segments: TimelineSegment[];
  open: { kind: OpenKind; start: string } | null;
  /** When the post-agent stretch ends if nothing else happens (the merge, then each gate that passes). */
  settledAt: string | null;
  attempt: number;
  terminal: boolean;
  timing: {
    -readonly [K in keyof StreamTiming]: StreamTiming[K];
  };
  validations: ValidationReport[];
  retryReasons: string[];
  mergeConflicts: (readonly string[])[];
  ownershipViolations: { readonly paths: readonly string[]; readonly mode: 'fail' | 'warn' }[];
}

/** Timing of a stream the journal says nothing about yet. */
export function emptyTiming(): StreamTiming {
  return {
    queuedAt: null,
    startedAt: null,
    agentDoneAt: null,
    validatingAt: null,
    mergedAt: null,
    failedAt: null,
    skippedAt: null,
    endedAt: null,
  };
}

function newTrack(): Track {
  return {
    segments: [],
    open: null,
    settledAt: null,
    attempt: 1,
    terminal: false,
    timing: emptyTiming(),
    validations: [],
    retryReasons: [],
    mergeConflicts: [],
    ownershipViolations: [],
  };
}

function close(track: Track, end: string): void {
  if (track.open === null) return;
  track.segments.push({ kind: track.open.kind, start: track.open.start, end, attempt: track.attempt });
  track.open = null;
}

function open(track: Track, kind: OpenKind, time: string): void {
  close(track, time);
  track.open = { kind, start: time };
}

function mark(track: Track, kind: 'merged' | 'failed' | 'skipped', time: string): void {
  track.segments.push({ kind, start: time, end: time, attempt: track.attempt });
  track.terminal = true;
  track.timing.endedAt = time;
}

/** Ends the post-agent stretch of a merged stream at its last green point. */
function settleMerged(track: Track, fallback: string): void {
  const end = track.settledAt ?? fallback;
  close(track, end);
  mark(track, 'merged', end);
}

/** Builds every stream's history from the journal, for the given stream ids. */
export function streamHistories(
  events: readonly RunEvent[],
  streamIds: readonly string[],
): ReadonlyMap<string, StreamHistory> {
  const tracks = new Map<string, Track>(streamIds.map((id) => [id, newTrack()]));
  // Streams merged since the last run-wide gate: a `validation-*` event without a stream concerns them.
  let awaitingGate = new Set<string>();
  let gateCommands: readonly string[] = [];
  const gateCommandsByStream = new Map<string, readonly string[]>();
  let lastTime: string | null = null;

  const track = (id: string | null): Track | undefined => (id === null ? undefined : tracks.get(id));
  const waitAll = (time: string): void => {
    for (const t of tracks.values()) {
      if (t.terminal || t.open !== null || t.timing.mergedAt !== null) continue;
      t.timing.queuedAt ??= time;
      open(t, 'waiting', time);
    }
  };

  for (const event of events) {
    lastTime = event.time;
    switch (event.type) {
      case 'run-started':
      case 'run-resumed':
        waitAll(event.time);
        break;
      case 'wave-started':
        for (const id of event.streamIds) {
          const t = tracks.get(id);
          if (t) t.timing.queuedAt = event.time;
        }
        break;
      case 'stream-started': {
        const t = track(event.streamId);
        if (!t) break;
        t.attempt = event.attempt;
        t.timing.startedAt ??= event.time;
        t.settledAt = null;
        open(t, 'running', event.time);
        break;
      }
      case 'agent-finished': {
        const t = track(event.streamId);
        if (!t) break;
        t.timing.agentDoneAt = event.time;
        t.timing.validatingAt = event.time;
        open(t, 'validating', event.time);
        break;
      }
      case 'stream-merged': {
        const t = track(event.streamId);
        if (!t) break;
        t.timing.mergedAt = event.time;
        t.settledAt = event.time;
        awaitingGate.add(event.streamId);
        break;
      }
      case 'validation-started':
        if (event.streamId === null) gateCommands = event.commands;
        else gateCommandsByStream.set(event.streamId, event.commands);
        break;
      case 'validation-passed':
      case 'validation-failed': {
        const passed = event.type === 'validation-passed';
        const shared = event.streamId === null;
        const ids = shared ? (event.streamIds ?? [...awaitingGate]) : [event.streamId];
        for (const id of ids) {
          const t = tracks.get(id);
          if (!t) continue;
          const commands =
            event.type === 'validation-failed'
              ? [event.command]
              : shared
                ? gateCommands
                : (gateCommandsByStream.get(id) ?? []);
          t.validations.push({
            time: event.time,
            passed,
            commands,
            exitCode: event.type === 'validation-failed' ? event.exitCode : 0,
            output: event.type === 'validation-failed' ? event.output : '',
            shared,
          });
          if (passed && t.timing.mergedAt !== null) t.settledAt = event.time;
        }
        if (shared && passed) awaitingGate = new Set();
        break;
      }
      case 'stream-retry': {
        const t = track(event.streamId);
        if (!t) break;
        t.retryReasons.push(event.reason);
        close(t, event.time);
        t.attempt = event.attempt;
        t.timing.mergedAt = null;
        t.settledAt = null;
        awaitingGate.delete(event.streamId);
        open(t, 'waiting', event.time);
        break;
      }
      case 'stream-failed': {
        const t = track(event.streamId);
        if (!t) break;
        t.timing.mergedAt = null;
        t.timing.failedAt = event.time;
        awaitingGate.delete(event.streamId);
        close(t, event.time);
        mark(t, 'failed', event.time);
        break;
      }
      case 'stream-skipped': {
        const t = track(event.streamId);
        if (!t) break;
        t.timing.skippedAt = event.time;
        close(t, event.time);
        mark(t, 'skipped', event.time);
        break;
      }
      case 'stream-reset': {
        // `maestro retry`: the stream's earlier end no longer stands; it waits for its next attempt.
        const t = track(event.streamId);
        if (!t) break;
        t.terminal = false;
        t.timing.failedAt = null;
        t.timing.skippedAt = null;
        t.timing.endedAt = null;
        t.timing.mergedAt = null;
        t.retryReasons.push(event.reason);
        open(t, 'waiting', event.time);
        break;
      }
      case 'stream-interrupted': {
        const t = track(event.streamId);
        if (t) close(t, event.time);
        break;
      }
      case 'merge-conflict':
        track(event.streamId)?.mergeConflicts.push(event.paths);
        break;
      case 'ownership-violation':
        track(event.streamId)?.ownershipViolations.push({ paths: event.paths, mode: event.mode });
        break;
      case 'run-finished':
        for (const t of tracks.values()) {
          if (t.terminal) continue;
          if (t.timing.mergedAt !== null) settleMerged(t, event.time);
          else close(t, event.time);
        }
        break;
      case 'agent-output':
      case 'agent-usage':
      case 'agent-activity':
      case 'agent-live-usage':
      case 'stream-committed':
      case 'integration-reset':
      case 'batch-gated':
      case 'budget-exceeded':
      case 'queue-attempt':
      case 'note':
      case 'safety-finding':
      case 'ports-reserved':
      case 'setup-started':
      case 'setup-finished':
      case 'baseline':
      case 'worktree-restored':
        break;
      default:
        unreachable(event);
    }
  }

  const end = lastTime;
  const result = new Map<string, StreamHistory>();
  for (const [id, t] of tracks) {
    // A journal cut short (crash, run still going): merged streams settle at their merge, others stay open to the end.
    if (!t.terminal && end !== null) {
      if (t.timing.mergedAt !== null) settleMerged(t, end);
      else close(t, end);
    }
    result.set(id, {
      segments: t.segments,
      timing: { ...t.timing },
      validations: t.validations,
      retryReasons: t.retryReasons,
      mergeConflicts: t.mergeConflicts,
      ownershipViolations: t.ownershipViolations,
    });
  }
  return result;
}
