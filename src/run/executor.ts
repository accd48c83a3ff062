/**
 * Where a stream's attempts run. The scheduler decides *what* runs; a `StreamExecutor` decides *where*:
 * a local child process today, a queue worker on another machine later. All state stays in the journal.
 */
import type { EnvPolicy } from '../agents/env.js';
import { runAgent } from '../agents/process.js';
import type { AgentBackend } from '../agents/types.js';
import { runAttempt, type AttemptCallbacks, type AttemptJob, type AttemptResult } from './attempt.js';
import { WorktreeSlots } from './slots.js';

/** Runs stream attempts somewhere: from the job's start commit to the attempt's commit; never rejects for expected failures. */
export interface StreamExecutor {
  /** Runs one attempt of a stream from its start commit and reports its commit (or why there is none). */
  run(job: AttemptJob, signal: AbortSignal, callbacks: AttemptCallbacks): Promise<AttemptResult>;
  /** Waits for background work (worktree slots being released) to end; called when a run ends. */
  settle?(): Promise<void>;
  /**
   * Gives the executor a way to say things the journal should keep (a queue executor: Redis down and
   * back, a job re-attached after a coordinator crash, a superseded attempt's late result). Called
   * once when the run's loop starts.
   */
  bindJournal?(note: (message: string) => void): void;
}

/**
 * Runs attempts in local worktrees, recycled between streams (`slots.ts`), with agents as local child
 * processes (own process group; killed as a group).
 */
export class LocalExecutor implements StreamExecutor {
  readonly #slots = new WorktreeSlots();

  constructor(
    private readonly backend: AgentBackend,
    private readonly graceMs = 5_000,
    /** What agents inherit from Maestro's environment (the run's `env` setting). */
    private readonly envPolicy: EnvPolicy = {},
  ) {}

  settle(): Promise<void> {
    return this.#slots.settle();
  }

  run(job: AttemptJob, signal: AbortSignal, callbacks: AttemptCallbacks): Promise<AttemptResult> {
    return runAttempt(
      job,
      this.#slots,
      (task, logFile, limits, agentSignal, onActivity) =>
        runAgent(this.backend, task, {
          timeoutMs: limits.timeoutMs,
          stallMs: limits.stallMs,
          graceMs: this.graceMs,
          signal: agentSignal,
          onActivity,
          logFile,
          envPolicy: this.envPolicy,
        }),
      signal,
      callbacks,
    );
  }
}
