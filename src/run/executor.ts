/**
 * Where a stream's agent runs. The scheduler decides *what* runs; a `StreamExecutor` decides *where*:
 * a local child process today, a queue worker on another machine later. All state stays in the journal.
 */
import { runAgent } from '../agents/process.js';
import type { AgentActivity, AgentBackend, AgentOutcome, AgentTask } from '../agents/types.js';

/** One agent run for one stream attempt. */
export interface StreamJob {
  readonly task: AgentTask;
  readonly logFile: string;
  readonly timeoutMs: number;
  readonly stallMs: number;
}

/** Runs stream jobs somewhere and reports how they ended; never rejects for expected failures. */
export interface StreamExecutor {
  execute(
    job: StreamJob,
    signal: AbortSignal,
    onActivity: (activity: AgentActivity) => void,
  ): Promise<AgentOutcome>;
}

/** Runs agents as local child processes (own process group; killed as a group). */
export class LocalExecutor implements StreamExecutor {
  constructor(
    private readonly backend: AgentBackend,
    private readonly graceMs = 5_000,
  ) {}

  execute(
    job: StreamJob,
    signal: AbortSignal,
    onActivity: (activity: AgentActivity) => void,
  ): Promise<AgentOutcome> {
    return runAgent(this.backend, job.task, {
      timeoutMs: job.timeoutMs,
      stallMs: job.stallMs,
      graceMs: this.graceMs,
      signal,
      onActivity,
      logFile: job.logFile,
    });
  }
}
