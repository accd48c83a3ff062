/** Reporters: subscribers that turn run events into text (one line per event) or JSON lines. */
import type { RunEvent } from './types.js';
import { unreachable } from './types.js';
import { formatUsage, formatUsd, queueCostsText } from './summary.js';

const shortSha = (sha: string) => sha.slice(0, 10);

/** One human line per event, or null for events a CI log does not need (agent output). */
export function formatEventLine(event: RunEvent): string | null {
  switch (event.type) {
    case 'run-started':
      return `run ${event.runId}: ${String(event.streamIds.length)} streams on ${event.integrationBranch} (base ${event.baseRef} ${shortSha(event.baseSha)})`;
    case 'run-resumed':
      return `run ${event.runId}: resumed`;
    case 'wave-started':
      return `wave ${String(event.wave + 1)}: ${event.streamIds.join(', ')}`;
    case 'stream-started':
      return `${event.streamId}: started (attempt ${String(event.attempt)}) on ${event.branch}`;
    case 'agent-usage':
      return `${event.streamId}: usage ${formatUsage(event.usage)}${
        event.runUsage === undefined
          ? ''
          : ` (${event.wave === undefined || event.waveUsage === undefined ? '' : `wave ${String(event.wave + 1)} ${formatUsd(event.waveUsage.costUsd)}; `}run ${formatUsd(event.runUsage.costUsd)})`
      }`;
    case 'agent-output':
    case 'agent-activity':
    case 'agent-live-usage':
      return null;
    case 'agent-finished':
      return `${event.streamId}: agent ${event.ok ? 'finished' : `failed [${event.code}]`} in ${(event.durationMs / 1000).toFixed(1)}s${event.ok ? '' : `: ${event.message.split('\n')[0] ?? ''}`}`;
    case 'stream-committed':
      return `${event.streamId}: committed ${shortSha(event.sha)} (${String(event.changedFiles.length)} files changed)`;
    case 'ownership-violation':
      return `${event.streamId}: ${event.mode === 'fail' ? 'error' : 'warning'}: changed files it does not own: ${event.paths.join(', ')}`;
    case 'merge-conflict':
      return `${event.streamId}: merge conflict in ${event.paths.join(', ')}`;
    case 'stream-merged':
      return `${event.streamId}: merged (${shortSha(event.mergeSha)})`;
    case 'validation-started':
      return `${event.streamId ?? 'run'}: validating: ${event.commands.join(' && ')}`;
    case 'validation-passed':
      return `${event.streamId ?? 'run'}: validation passed`;
    case 'validation-failed':
      return `${event.streamId ?? 'run'}: validation failed: \`${event.command}\` exited ${String(event.exitCode)}`;
    case 'integration-reset':
      return `integration branch reset to ${shortSha(event.sha)} (${event.reason})`;
    case 'stream-retry':
      return `${event.streamId}: retrying (attempt ${String(event.attempt)}): ${event.reason}`;
    case 'stream-failed':
      return `${event.streamId}: FAILED [${event.code}] ${event.message}`;
    case 'stream-skipped':
      return `${event.streamId}: skipped: ${event.reason}`;
    case 'stream-reset':
      return `${event.streamId}: to run again (${event.reason})`;
    case 'stream-interrupted':
      return `${event.streamId}: interrupted (${event.reason}); resumable`;
    case 'budget-exceeded':
      return `budget exceeded: $${event.costUsd.toFixed(2)} of $${event.budgetUsd.toFixed(2)}; stopping agents (resumable)`;
    case 'batch-gated':
      return `batch of ${String(event.streamIds.length)} gated in ${String(event.gateRuns)} gate run${event.gateRuns === 1 ? '' : 's'}: ${String(event.landed.length)} landed${event.culprits.length > 0 ? `; broke the gate: ${event.culprits.join(', ')}` : ''}`;
    case 'queue-attempt':
      return `${event.streamId}: attempt ${String(event.attempt)} ran on worker ${event.worker ?? '?'} (queue: ${queueCostsText(event)})`;
    case 'note':
      return event.message;
    case 'safety-finding':
      return `${event.streamId ?? 'run'}: ${event.code}: ${event.message}`;
    case 'run-finished':
      return `run finished: ${event.status}`;
    case 'ports-reserved':
      return `ports: ${String(event.base)} and up (MAESTRO_PORT; ${String(event.span)} per worktree)`;
    case 'setup-started':
      return `${event.streamId ?? 'integration'}: setup: ${event.commands.join(' && ')}`;
    case 'setup-finished':
      return event.ok
        ? `${event.streamId ?? 'integration'}: setup done in ${(event.durationMs / 1000).toFixed(1)}s`
        : `${event.streamId ?? 'integration'}: setup failed: \`${event.command ?? '?'}\` exited ${String(event.exitCode)}`;
    case 'baseline':
      switch (event.phase) {
        case 'started':
          return `baseline: ${event.commands.join(' && ')} on the base commit ${shortSha(event.sha)}`;
        case 'passed':
          return 'baseline: passed';
        case 'failed':
          return `baseline: \`${event.command ?? '?'}\` fails on the base commit ${shortSha(event.sha)} itself (exit ${String(event.exitCode)})`;
        default:
          return unreachable(event.phase);
      }
    case 'worktree-restored':
      return `warning: ${event.after} changed ${event.paths.join(', ')} in the integration worktree; put back`;
    default:
      return unreachable(event);
  }
}

/** A plain line reporter (good in CI logs): writes one line per event. */
export function lineReporter(write: (line: string) => void): (event: RunEvent) => void {
  return (event) => {
    const line = formatEventLine(event);
    if (line !== null) write(`[maestro] ${line}\n`);
  };
}

/** A JSON-lines reporter: every event as one JSON object per line. */
export function jsonReporter(write: (line: string) => void): (event: RunEvent) => void {
  return (event) => {
    write(`${JSON.stringify(event)}\n`);
  };
}
