/** `maestro status --watch`: the live view (or plain lines) of a run started elsewhere, from its journal. */
import { loadRun } from '../run/engine.js';
import { runPaths } from '../run/journal.js';
import { JournalTail } from '../run/journal-tail.js';
import { readLockOwner } from '../run/lock.js';
import { replay } from '../run/state.js';
import { formatSummary } from '../run/summary.js';
import type { RunEvent } from '../run/types.js';
import type { OutputMode } from '../ui/output-mode.js';
import { ExitCode } from './errors.js';
import { startProgress } from './progress.js';

const pollMs = 150;
/** Polls without new events, with no live owner, before the run is taken as dead (covers the owner's last writes). */
const deadPolls = 3;

/**
 * Follows `runId`'s journal until a `run-finished` event, Ctrl-C, or the run's process is gone;
 * then prints the summary. Returns the exit code: 0 when the run completed, 130 on Ctrl-C, else 1.
 */
export async function watchRun(repo: string, runId: string, mode: OutputMode): Promise<number> {
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        stop.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
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
  if (stop.signal.aborted) return ExitCode.interrupted;
  return state?.status === 'completed' ? ExitCode.ok : ExitCode.failure;
}
