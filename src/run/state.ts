/**
 * Run state as a fold over the journal's events: `replay(events)` rebuilds exactly what the engine
 * held in memory, so `state.json` is only a cache and a crash loses nothing that was journaled.
 */
import type { Usage } from '../agents/types.js';
import type { RunEvent, RunState, StreamState } from './types.js';
import { unreachable } from './types.js';

/** A stream that has not started. */
export function initialStreamState(id: string): StreamState {
  return {
    id,
    status: 'pending',
    attempts: 0,
    retries: 0,
    gateRetries: 0,
    conflictRetries: 0,
    branch: null,
    startSha: null,
    commitSha: null,
    mergeSha: null,
    changedFiles: [],
    startedAt: null,
    endedAt: null,
    durationMs: 0,
    error: null,
    warnings: [],
    usage: null,
    sessionId: null,
    retryContext: null,
  };
}

/** The sum of two usages (`a` may be null: nothing yet). */
export function addUsage(a: Usage | null, b: Usage): Usage {
  if (a === null) return b;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: a.costUsd + b.costUsd,
    costSource: b.costSource === 'none' ? a.costSource : b.costSource,
  };
}

/** Applies one event to the state (mutating it); unknown stream ids are ignored. */
export function applyEvent(state: RunState | null, event: RunEvent): RunState | null {
  if (event.type === 'run-started') {
    const streams: Record<string, StreamState> = {};
    for (const id of event.streamIds) streams[id] = initialStreamState(id);
    return {
      runId: event.runId,
      status: 'running',
      repo: event.repo,
      planSource: event.planSource,
      baseRef: event.baseRef,
      baseSha: event.baseSha,
      baseBranchRef: event.baseBranchRef,
      integrationBranch: event.integrationBranch,
      greenSha: event.baseSha,
      tipSha: event.baseSha,
      startedAt: event.time,
      endedAt: null,
      streams,
      mergeOrder: [],
      costUsd: 0,
      notes: [],
      budgetStop: null,
    };
  }
  if (state === null) return null;
  const stream = 'streamId' in event && event.streamId !== null ? state.streams[event.streamId] : undefined;
  switch (event.type) {
    case 'run-resumed':
      state.status = 'running';
      state.endedAt = null;
      state.budgetStop = null;
      break;
    case 'wave-started':
    case 'agent-output':
    case 'agent-activity':
    case 'agent-live-usage':
    case 'validation-started':
      break;
    case 'stream-started':
      if (!stream) break;
      stream.status = 'running';
      stream.attempts = event.attempt;
      stream.branch = event.branch;
      stream.startSha = event.startSha;
      stream.startedAt ??= event.time;
      stream.endedAt = null;
      stream.error = null;
      stream.resolving = event.resolving ?? null;
      break;
    case 'agent-usage':
      if (!stream) break;
      stream.usage = addUsage(stream.usage, event.usage);
      stream.sessionUsage = addUsage(stream.sessionUsage ?? null, event.usage);
      if (stream.resolving != null)
        stream.resolutionUsage = addUsage(stream.resolutionUsage ?? null, event.usage);
      else if (stream.attempts === 1)
        stream.firstAttemptUsage = addUsage(stream.firstAttemptUsage ?? null, event.usage);
      state.costUsd += event.usage.costUsd;
      break;
    case 'agent-finished':
      if (!stream) break;
      stream.durationMs += event.durationMs;
      if (event.sessionId !== undefined) {
        if (event.sessionId !== stream.sessionId) stream.sessionUsage = null;
        stream.sessionId = event.sessionId;
      }
      break;
    case 'stream-committed':
      if (!stream) break;
      if (stream.status === 'merged') {
        // A merge undone (its wave failed validation) to be merged again.
        stream.mergeSha = null;
        state.mergeOrder = state.mergeOrder.filter((id) => id !== stream.id);
      }
      stream.status = 'committed';
      stream.commitSha = event.sha;
      stream.changedFiles = event.changedFiles;
      stream.resolveConflict = false;
      break;
    case 'ownership-violation':
      if (!stream) break;
      if (event.mode === 'warn') stream.warnings.push(`out-of-scope changes: ${event.paths.join(', ')}`);
      break;
    case 'merge-conflict':
      break;
    case 'stream-merged':
      if (!stream) break;
      stream.status = 'merged';
      stream.mergeSha = event.mergeSha;
      state.tipSha = event.mergeSha;
      stream.commitSha = event.streamSha;
      stream.endedAt = event.time;
      stream.retryContext = null;
      if (!state.mergeOrder.includes(stream.id)) state.mergeOrder.push(stream.id);
      break;
    case 'validation-passed':
      state.greenSha = event.sha;
      break;
    case 'validation-failed':
      break;
    case 'integration-reset':
      state.greenSha = event.sha;
      state.tipSha = event.sha;
      break;
    case 'safety-finding':
      if (stream) stream.warnings.push(`${event.code}: ${event.message}`);
      else state.notes.push(`${event.code}: ${event.message}`);
      break;
    case 'batch-gated':
      state.batches = [
        ...(state.batches ?? []),
        {
          streamIds: event.streamIds,
          landed: event.landed,
          culprits: event.culprits,
          gateRuns: event.gateRuns,
        },
      ];
      break;
    case 'stream-retry':
      if (!stream) break;
      stream.retries += 1;
      switch (event.cause) {
        case 'gate':
          stream.gateRetries += 1;
          break;
        case 'conflict':
          stream.conflictRetries += 1;
          break;
        case 'speculation': {
          // A restart, not a retry `--retries` bounds; what the discarded attempt cost is counted.
          const s = state.speculation ?? { discarded: 0, agentMs: 0, costUsd: 0 };
          state.speculation = {
            discarded: s.discarded + 1,
            agentMs: s.agentMs + (event.wasted?.agentMs ?? 0),
            costUsd: s.costUsd + (event.wasted?.costUsd ?? 0),
          };
          break;
        }
        case 'verify':
          stream.verifyRetries = (stream.verifyRetries ?? 0) + 1;
          break;
        default:
          return unreachable(event.cause);
      }
      stream.retryContext = event.context;
      stream.resolveConflict = event.cause === 'conflict' && event.handBack === true;
      if (stream.status === 'merged') {
        // A merge undone by a failed gate.
        stream.mergeSha = null;
        state.mergeOrder = state.mergeOrder.filter((id) => id !== stream.id);
      }
      if (event.fresh === true) stream.startSha = null;
      // Still this stream's turn: the retry follows at once (a crash turns it into `interrupted`).
      stream.status = 'running';
      break;
    case 'stream-failed':
      if (!stream) break;
      if (stream.status === 'merged') state.mergeOrder = state.mergeOrder.filter((id) => id !== stream.id);
      stream.status = 'failed';
      stream.mergeSha = null;
      stream.error = {
        code: event.code,
        message: event.message,
        ...(event.gate === undefined
          ? {}
          : { command: event.gate.command, exitCode: event.gate.exitCode, output: event.gate.output }),
      };
      stream.endedAt = event.time;
      break;
    case 'stream-skipped':
      if (!stream) break;
      stream.status = 'skipped';
      stream.error = { code: 'skipped', message: event.reason };
      stream.endedAt = event.time;
      break;
    case 'stream-reset':
      if (!stream) break;
      // A new chance from the integration tip, with a fresh retry allowance; attempts and cost so far stay.
      stream.status = 'pending';
      stream.error = null;
      stream.endedAt = null;
      stream.startSha = null;
      stream.commitSha = null;
      stream.mergeSha = null;
      stream.retryContext = null;
      stream.gateRetries = 0;
      stream.conflictRetries = 0;
      stream.resolveConflict = false;
      break;
    case 'stream-interrupted':
      if (!stream) break;
      stream.status = 'interrupted';
      break;
    case 'budget-exceeded':
      state.budgetStop = { costUsd: event.costUsd, budgetUsd: event.budgetUsd };
      state.notes.push(
        `budget of $${event.budgetUsd.toFixed(2)} exceeded ($${event.costUsd.toFixed(2)} spent)`,
      );
      break;
    case 'queue-attempt': {
      const q = state.queue;
      state.queue = {
        attempts: (q?.attempts ?? 0) + 1,
        publishMs: (q?.publishMs ?? 0) + event.publishMs,
        enqueueMs: (q?.enqueueMs ?? 0) + event.enqueueMs,
        fetchMs: (q?.fetchMs ?? 0) + event.fetchMs,
        pushMs: (q?.pushMs ?? 0) + event.pushMs,
        resultMs: (q?.resultMs ?? 0) + event.resultMs,
      };
      break;
    }
    case 'note':
      state.notes.push(event.message);
      break;
    case 'run-finished':
      state.status = event.status;
      state.endedAt = event.time;
      break;
    case 'ports-reserved':
      state.portBase = event.base;
      break;
    case 'setup-started':
      break;
    case 'setup-finished': {
      const setups = state.setups ?? { runs: 0, failed: 0, durationMs: 0 };
      state.setups = {
        runs: setups.runs + 1,
        failed: setups.failed + (event.ok ? 0 : 1),
        durationMs: setups.durationMs + event.durationMs,
      };
      break;
    }
    case 'baseline':
      if (event.phase === 'failed')
        state.baselineFailure = {
          command: event.command ?? '',
          exitCode: event.exitCode ?? null,
          output: event.output ?? '',
        };
      break;
    case 'worktree-restored':
      state.notes.push(
        `warning: ${event.after} changed ${event.paths.join(', ')} in the integration worktree; put back`,
      );
      break;
    default:
      return unreachable(event);
  }
  return state;
}

/** Rebuilds run state from the journal; null when the journal has no `run-started`. */
export function replay(events: readonly RunEvent[]): RunState | null {
  let state: RunState | null = null;
  for (const event of events) state = applyEvent(state, event);
  return state;
}
