/**
 * Outcome helpers shared by the backends: the failures every agent can have (could not start,
 * stopped by Maestro, crashed) read the same whichever CLI it was.
 */
import type { AgentFailureCode, AgentOutcome, AgentTask, ProcessExit, Usage } from './types.js';

/** A failed outcome. */
export function failed(
  code: AgentFailureCode,
  message: string,
  usage: Usage,
  sessionId?: string,
): AgentOutcome {
  return sessionId === undefined
    ? { ok: false, code, message, usage }
    : { ok: false, code, message, usage, sessionId };
}

/** A successful outcome. */
export function succeeded(report: string, usage: Usage, sessionId?: string): AgentOutcome {
  return sessionId === undefined ? { ok: true, report, usage } : { ok: true, report, usage, sessionId };
}

/** "2.5 s", "3 min 20 s": durations in messages. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  const seconds = Math.round(ms / 100) / 10;
  if (seconds < 60) return `${seconds} s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

/** The agent could not be started: a missing executable gets `installHint`. */
export function spawnFailure(
  exit: ProcessExit,
  executable: string,
  installHint: string,
  usage: Usage,
): AgentOutcome | undefined {
  if (exit.spawnError === undefined) return undefined;
  if (exit.spawnErrorCode === 'ENOENT' || exit.spawnErrorCode === 'EACCES') {
    const why = exit.spawnErrorCode === 'ENOENT' ? 'was not found' : 'is not executable';
    return failed('missing-binary', `the agent executable "${executable}" ${why}. ${installHint}`, usage);
  }
  return failed('config', `could not start the agent: ${exit.spawnError}`, usage);
}

/** Maestro stopped the agent: a message naming the limit. */
export function stoppedFailure(
  exit: ProcessExit,
  usage: Usage,
  sessionId?: string,
): AgentOutcome | undefined {
  const limit = exit.stopLimitMs === undefined ? '' : ` after ${formatDuration(exit.stopLimitMs)}`;
  switch (exit.stoppedBy) {
    case null:
      return undefined;
    case 'timeout':
      return failed(
        'timeout',
        `the agent hit the wall-clock timeout${limit} and was stopped`,
        usage,
        sessionId,
      );
    case 'stall':
      return failed(
        'stalled',
        `the agent made no progress${limit.replace(' after', ' for')} and was stopped (stall timeout)`,
        usage,
        sessionId,
      );
    case 'abort':
      return failed('killed', 'the agent was stopped (run aborted)', usage, sessionId);
    case 'budget':
      return failed('budget', 'the agent was stopped because the run budget was reached', usage, sessionId);
  }
}

/** The agent died from a signal Maestro did not send. */
export function crashFailure(exit: ProcessExit, usage: Usage, sessionId?: string): AgentOutcome | undefined {
  if (exit.signal === null) return undefined;
  const stderr = lastLines(exit.stderrTail, 5);
  return failed(
    'crashed',
    `the agent was killed by ${exit.signal}${stderr === '' ? '' : `; last stderr:\n${stderr}`}`,
    usage,
    sessionId,
  );
}

/** The last `count` non-empty lines of a text. */
export function lastLines(text: string, count: number): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines.slice(-count).join('\n');
}

/** The last `maxChars` characters of a text, starting at a line boundary when possible. */
export function tailText(text: string, maxChars: number): string {
  const trimmed = text.trim();
  if (trimmed.length <= maxChars) return trimmed;
  const cut = trimmed.slice(-maxChars);
  const newline = cut.indexOf('\n');
  return newline === -1 || newline > maxChars / 2 ? cut : cut.slice(newline + 1);
}

/**
 * The stream's budget was passed (for CLIs without a budget flag, Maestro checks the usage it prices):
 * a budget failure with the money spent, whether Maestro stopped the agent or it had just finished.
 */
export function budgetFailure(
  task: AgentTask,
  exit: ProcessExit,
  usage: Usage,
  sessionId?: string,
): AgentOutcome | undefined {
  const budget = task.budgetUsd;
  const over = budget !== undefined && usage.costUsd > budget;
  if (!over && exit.stoppedBy !== 'budget') return undefined;
  const spent = usage.costSource === 'none' ? 'an unknown amount' : `$${usage.costUsd.toFixed(4)}`;
  const limit = budget === undefined ? 'the run budget' : `the stream budget of $${budget}`;
  return failed('budget', `the agent was stopped at ${limit} after spending ${spent}`, usage, sessionId);
}

/**
 * The agent ended without its final event. Output that started and stopped (or a clean exit) is
 * `bad-output` — malformed or truncated; a CLI that exited non-zero before any event is `exit-nonzero`.
 */
export function endedWithoutResult(
  what: { readonly cli: string; readonly missing: string },
  exitCode: number | null,
  reader: { readonly events: number; garbageNote(): string },
  detail: string,
  usage: Usage,
  sessionId?: string,
): AgentOutcome {
  const code = exitCode ?? 'unknown';
  if (exitCode === 0 || reader.events > 0)
    return failed(
      'bad-output',
      `${what.cli} ended without ${what.missing}${reader.garbageNote()}: its output was malformed or truncated (exit ${code})${detail}`,
      usage,
      sessionId,
    );
  return failed(
    'exit-nonzero',
    `${what.cli} exited with code ${code}${reader.garbageNote()}${detail}`,
    usage,
    sessionId,
  );
}
