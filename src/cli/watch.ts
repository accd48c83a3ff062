/** `maestro status --watch`: the live view (or plain lines) of a run started elsewhere, from its journal. */
import { loadRun } from '../run/engine.js';
import { runPaths } from '../run/journal.js';
import { JournalTail } from '../run/journal-tail.js';
import { readLockOwner } from '../run/lock.js';
import { replay } from '../run/state.js';
import { formatSummary } from '../run/summary.js';
import type { RunEvent } from '../run/types.js';
import type { OutputMode } from '../ui/output-mode.js';
import { setOutcome } from './outcome.js';
import { startProgress } from './progress.js';

const pollMs = 150;
/** Polls without new events, with no live owner, before the run is taken as dead (covers the owner's last writes). */
const deadPolls = 3;

/**
 * Waits `ms`, or less when `signal` aborts first. Its abort listener goes away either way: one left per
 * poll piles up (Node warns `MaxListenersExceededWarning` into the live view after ten).
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Follows `runId`'s journal until a `run-finished` event, Ctrl-C, or the run's process is gone; then
 * prints the summary. Ctrl-C stops watching only: the run goes on in its own process.
 */
export async function watchRun(repo: string, runId: string, mode: OutputMode): Promise<void> {
  const loaded = await loadRun(repo, runId);
  const tail = new JournalTail(runPaths(repo, runId).journal);
  const events: RunEvent[] = [];
  const progress = startProgress(mode, loaded.analysis);
  const stop = new AbortController();
  const onSignal = () => {
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let finished = false;
  let quiet = 0;
  let note = '';
  try {
    while (!stop.signal.aborted) {
      const fresh = await tail.read();
      for (const event of fresh) {
        events.push(event);
        progress.bus.publish(event);
        if (event.type === 'run-finished') finished = true;
        else if (event.type === 'run-resumed') finished = false;
      }
      if (finished) break;
      if (fresh.length === 0 && readLockOwner(repo)?.runId !== runId) {
        quiet += 1;
        if (quiet >= deadPolls) {
          note = `run ${runId} is not running (its process is gone); continue it with \`maestro resume ${runId}\`\n`;
          break;
        }
      } else quiet = 0;
      await pause(pollMs, stop.signal);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
  }
  const out = mode.kind === 'json' ? process.stderr : process.stdout;
  const state = replay(events);
  if (state !== null) {
    if (!finished && state.status === 'running' && note !== '') state.status = 'interrupted';
    out.write(
      `\n${formatSummary(
        state,
        loaded.analysis.streams.map((s) => s.id),
      )}`,
    );
  }
  if (note !== '') out.write(note);
  if (stop.signal.aborted && !finished)
    out.write(
      `Stopped watching; run ${runId} continues in its own process. Watch it again with: maestro status --watch ${runId}\n`,
    );
  setOutcome({
    kind: 'watch-ended',
    status: state?.status ?? null,
    stoppedWatching: stop.signal.aborted && !finished,
  });
}
