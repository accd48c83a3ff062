/**
 * `maestro worker`: takes stream-attempt jobs from the run queues in Redis (one BullMQ queue per agent
 * backend, and only the backends this worker was started with), and for each one fetches the start
 * commit from the job's git remote into a cached clone, runs the agent in a worktree of its own, commits,
 * pushes the commit under the job's result ref, and returns the outcome as the job's result. Agent
 * activity goes back as job progress while the agent runs.
 *
 * Failures: BullMQ's lock and stalled-job check re-queue a job whose worker died; `stop()` (SIGTERM)
 * stops taking jobs, lets running ones finish for a while, then hands them back to the queue
 * (`moveToWait`) with their agents stopped. A reaper process outside the worker's process group stops
 * any agent still running under the work directory once the worker is gone, even after SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, Worker as BullWorker } from 'bullmq';
import { runAgent } from '../agents/process.js';
import type { BackendName } from '../agents/registry.js';
import {
  noUsage,
  type AgentActivity,
  type AgentBackend,
  type AgentTask,
  type Usage,
} from '../agents/types.js';
import { commitIdentityArgs } from '../git/git.js';
import { runAttempt, type AttemptSetup } from '../run/attempt.js';
import { findFreePortBlock, portSpan } from '../run/ports.js';
import type { SetupSpec } from '../run/setup-detect.js';
import { WorktreeSlots } from '../run/slots.js';
import {
  attemptQueueName,
  cancelRunEvent,
  connectionOptions,
  controlQueueName,
  queuePrefix,
  type RedisTarget,
} from './connection.js';
import { CloneCache, RemoteError, pushCommit } from './remote.js';
import {
  startCommitRef,
  parseJobData,
  type AttemptJobData,
  type AttemptJobResult,
  type AttemptProgress,
  type AttemptTimings,
  type QueueFailureCode,
} from './schema.js';

/** How a worker is set up (`maestro worker` flags). */
export interface WorkerConfig {
  readonly redis: RedisTarget;
  /** Jobs run at once, per backend queue. */
  readonly concurrency: number;
  readonly workDir: string;
  /** The backends this worker runs, built from its own flags; a job names one of them or waits for another worker. */
  readonly backends: ReadonlyMap<BackendName, AgentBackend>;
  /** Shown in results and logs (default: host-pid). */
  readonly name?: string;
  /** BullMQ lock duration: a job whose worker stops renewing its lock this long is re-queued. */
  readonly lockMs?: number;
  /** One line per job event, for the worker's log. */
  readonly log: (line: string) => void;
  /**
   * What gets each worktree ready before the agent (`--setup`): the worker's own configuration, never
   * a job's, so that whoever can write to Redis cannot choose a command the worker runs.
   */
  readonly setup?: SetupSpec;
}

/** No setup: the agent starts in the bare checkout. */
export const noSetup: SetupSpec = { commands: [], source: 'none', detectedFrom: [], tools: [], teardown: [] };

/** A running worker. */
export interface RunningWorker {
  readonly name: string;
  /**
   * Stops taking jobs; running jobs get `drainMs` to finish, then their agents are stopped and the jobs
   * handed back to the queue for another worker. Resolves when nothing runs any more. Safe to call twice.
   */
  stop(drainMs: number): Promise<void>;
}

/** How often agent activity is sent back as job progress. */
const progressIntervalMs = 200;
const defaultLockMs = 30_000;

/** Where the reaper script is, from `src/queue`, `dist/queue` or the bundled `dist/bin` (two folders below the root). */
const reaperScript = fileURLToPath(new URL('../../dist/queue/reaper.js', import.meta.url));

/** Why a running job's agent is being stopped. */
type StopCause = 'hand-back' | 'cancelled' | 'lock-lost';

interface RunningJob {
  readonly runId: string;
  readonly controller: AbortController;
  cause: StopCause | null;
}

function failure(
  code: QueueFailureCode,
  message: string,
  worker: string,
  timings: AttemptTimings,
  usage: Usage = noUsage,
  sessionId?: string,
): AttemptJobResult {
  return {
    ok: false,
    code,
    message,
    usage,
    worker,
    timings,
    ...(sessionId === undefined ? {} : { sessionId }),
  };
}

/** Starts a reaper that kills every process under `dir` when this process's end of its stdin pipe closes. */
function startReaper(dir: string): ChildProcess {
  const child = spawn(process.execPath, [reaperScript, dir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => undefined);
  child.unref();
  return child;
}

/** Starts a worker; resolves once it listens to its queues. */
export async function startWorker(config: WorkerConfig): Promise<RunningWorker> {
  const { Worker, QueueEvents, UnrecoverableError, WaitingError } = await import('bullmq');
  const name = config.name ?? `${hostname()}-${String(process.pid)}`;
  const lockMs = config.lockMs ?? defaultLockMs;
  const cache = new CloneCache(config.workDir);
  const slots = new WorktreeSlots();
  // The worker's own setup (`--setup`), never a job's: MAESTRO_PORT blocks of this machine, one per slot.
  const setup: AttemptSetup = {
    spec: config.setup ?? noSetup,
    root: config.workDir,
    included: [],
    portBase: await findFreePortBlock((config.concurrency * config.backends.size + 1) * portSpan),
  };
  await mkdir(config.workDir, { recursive: true });
  const reaper = startReaper(config.workDir);
  const running = new Map<string, RunningJob>();
  const cleaning = new Set<Promise<void>>();
  // The commit identity (git config or environment) is the worker's own: looked up once per clone.
  const identities = new Map<string, Promise<string[]>>();
  const cancelledRuns = new Set<string>();
  const connection = connectionOptions(config.redis);
  let lastConnectionError = '';

  const stopJobs = (runId: string | null, cause: StopCause): void => {
    for (const job of running.values()) {
      if (runId !== null && job.runId !== runId) continue;
      job.cause ??= cause;
      job.controller.abort(cause);
    }
  };

  const control = new QueueEvents(controlQueueName, { connection, prefix: queuePrefix });
  control.on(
    cancelRunEvent as 'error',
    ((args: { runId?: unknown }) => {
      if (typeof args.runId !== 'string') return;
      cancelledRuns.add(args.runId);
      if (cancelledRuns.size > 1000) cancelledRuns.delete(cancelledRuns.values().next().value ?? '');
      config.log(`run ${args.runId} cancelled: stopping its agents`);
      stopJobs(args.runId, 'cancelled');
    }) as unknown as (error: Error) => void,
  );
  control.on('error', () => undefined);

  const process1 = async (job: Job, token?: string): Promise<AttemptJobResult> => {
    const parsed = parseJobData(job.data);
    if (!parsed.ok) throw new UnrecoverableError(`bad job ${job.id ?? '?'}: ${parsed.message}`);
    const data = parsed.job;
    const jobId = job.id ?? `${data.runId}-${data.streamId}`;
    const backend = config.backends.get(data.backend);
    if (backend === undefined)
      throw new UnrecoverableError(`worker ${name} does not run the ${data.backend} backend`);
    if (cancelledRuns.has(data.runId)) throw new UnrecoverableError(`run ${data.runId} was cancelled`);
    const entry: RunningJob = {
      runId: data.runId,
      controller: new AbortController(),
      cause: null,
    };
    running.set(jobId, entry);
    config.log(`${jobId}: started (${data.backend}, ${data.streamId} attempt ${String(data.attempt)})`);
    try {
      const result = await runJob(data, jobId, job, backend, entry);
      if (entry.cause === 'hand-back') {
        // Handed back while stopping: the job goes back to waiting for another worker (BullMQ's
        // moveToWait + WaitingError, which tells the worker not to complete or fail it).
        await job.moveToWait(token);
        config.log(`${jobId}: handed back to the queue`);
        throw new WaitingError();
      }
      if (entry.cause === 'cancelled') throw new UnrecoverableError(`run ${data.runId} was cancelled`);
      if (entry.cause === 'lock-lost')
        throw new Error('lost the job lock (Redis unreachable for too long); the job runs again elsewhere');
      config.log(
        `${jobId}: ${result.ok ? `done, ${result.commitSha.slice(0, 10)}` : `failed (${result.code}): ${result.message}`}`,
      );
      return result;
    } finally {
      running.delete(jobId);
      // Clean-up off the job's path (its result is already final); `stop` waits for it.
      const cleanUp = rm(metaDir(jobId), { recursive: true, force: true }).then(
        () => undefined,
        () => undefined,
      );
      cleaning.add(cleanUp);
      void cleanUp.finally(() => cleaning.delete(cleanUp));
    }
  };

  const identityFor = (remote: string, worktree: string): Promise<string[]> => {
    let identity = identities.get(remote);
    if (identity === undefined) {
      identity = commitIdentityArgs(worktree);
      identities.set(remote, identity);
    }
    return identity;
  };

  const metaDir = (jobId: string) => path.join(config.workDir, 'jobs', `${jobId}.maestro`);

  const runJob = async (
    data: AttemptJobData,
    jobId: string,
    job: Job,
    backend: AgentBackend,
    entry: RunningJob,
  ): Promise<AttemptJobResult> => {
    const timings = { fetchMs: 0, agentMs: 0, pushMs: 0 };
    const t0 = performance.now();
    let clone: string;
    try {
      clone = await cache.fetchCommits(data.remote, [
        { ref: data.checkoutRef, sha: data.checkoutSha },
        ...(data.mergeFromSha === undefined
          ? []
          : [{ ref: startCommitRef(data.runId, data.mergeFromSha), sha: data.mergeFromSha }]),
      ]);
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      timings.fetchMs = performance.now() - t0;
      return failure('remote-unreachable', error.message, name, timings);
    }
    const dir = metaDir(jobId);
    await mkdir(dir, { recursive: true });
    const promptFile = path.join(dir, 'prompt.md');
    // The prompt reaches the agent as a file and on stdin, never through a shell command line.
    const task: Promise<AgentTask> = writeFile(promptFile, data.task.prompt).then(() => ({
      runId: data.runId,
      streamId: data.streamId,
      streamTitle: data.task.streamTitle,
      role: data.task.role,
      roleInstructions: data.task.roleInstructions,
      model: data.task.model,
      files: data.task.files,
      prompt: data.task.prompt,
      promptFile,
      reportFile: path.join(dir, 'report.md'),
      // `runAttempt` sets the worktree and its environment (MAESTRO_PORT…).
      cwd: '',
      validationCommands: data.task.validationCommands,
      ...(data.task.budgetUsd === undefined ? {} : { budgetUsd: data.task.budgetUsd }),
      ...(data.task.resumeSessionId === undefined ? {} : { resumeSessionId: data.task.resumeSessionId }),
      ...(data.task.resumedUsage === undefined ? {} : { resumedUsage: data.task.resumedUsage }),
      ...(data.task.ownedPaths === undefined ? {} : { ownedPaths: data.task.ownedPaths }),
      env: {},
    }));
    const progress = new ProgressSender(job);
    let agentEnded = 0;
    // The same attempt unit as a local run: a recycled worktree slot of the clone, set up with this
    // worker's own setup, the agent, the commit. It starts from the job's commit (a fresh branch in
    // the clone); the coordinator counts the changes from the job's base.
    const attempt = await runAttempt(
      {
        repo: clone,
        streamId: data.streamId,
        attempt: data.attempt,
        branch: `maestro-worker/${data.runId}/${data.streamId}`,
        worktreeRoot: cache.worktreeRoot(data.remote),
        setup,
        startSha: data.checkoutSha,
        continueBranch: false,
        ...(data.mergeFromSha === undefined ? {} : { mergeFrom: data.mergeFromSha }),
        priority: 0,
        task,
        logFile: path.join(dir, 'agent.log'),
        timeoutMs: data.timeoutMs,
        stallMs: data.stallMs,
        commitMessage: data.commitMessage,
        identity: await identityFor(data.remote, clone),
        ownedPaths: data.task.files,
      },
      slots,
      (agentTask, logFile, limits, signal, onActivity) =>
        runAgent(backend, agentTask, { ...limits, signal, onActivity, logFile }),
      entry.controller.signal,
      {
        onStarted: () => {
          timings.fetchMs = performance.now() - t0;
        },
        onSetupStarted: (commands) => {
          progress.add({ kind: 'output', text: `[worker ${name}] setup: ${commands.join(' && ')}` });
        },
        onActivity: (activity) => {
          progress.add(activity);
        },
        onAgentEnded: (_outcome, durationMs) => {
          timings.agentMs = durationMs;
          agentEnded = performance.now();
          // Stopping (handed back, cancelled, lock lost): its work is not committed.
          return entry.cause === null;
        },
      },
    );
    await progress.close();
    if (attempt.kind === 'setup-failed') {
      const { command, exitCode, output, durationMs } = attempt.setup;
      if (entry.cause !== null) return failure('killed', 'stopped during setup', name, timings);
      return {
        ok: false,
        code: 'setup',
        message: `setup \`${command}\` exited ${String(exitCode)} on worker ${name}`,
        setup: { command, exitCode, output, durationMs },
        usage: noUsage,
        worker: name,
        timings,
      };
    }
    if (attempt.kind === 'not-committed') {
      const { outcome } = attempt;
      return outcome.ok
        ? failure('killed', 'stopped', name, timings, outcome.usage, outcome.sessionId)
        : failure(outcome.code, outcome.message, name, timings, outcome.usage, outcome.sessionId);
    }
    const { outcome } = attempt;
    const sessionId = outcome.sessionId;
    const resultRef = `${data.resultRefPrefix}/${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${randomBytes(4).toString('hex')}`;
    try {
      await pushCommit(clone, data.remote, attempt.sha, resultRef);
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      timings.pushMs = performance.now() - agentEnded;
      return failure('remote-unreachable', error.message, name, timings, outcome.usage, sessionId);
    }
    timings.pushMs = performance.now() - agentEnded;
    let report = outcome.report;
    if (report.trim() === '') report = await readFile(path.join(dir, 'report.md'), 'utf8').catch(() => '');
    return {
      ok: true,
      commitSha: attempt.sha,
      resultRef,
      changedFiles: [...attempt.changedFiles],
      report,
      usage: outcome.usage,
      ...(sessionId === undefined ? {} : { sessionId }),
      worker: name,
      timings,
    };
  };

  const workers: BullWorker[] = [...config.backends.keys()].map((backendName) => {
    const worker = new Worker(attemptQueueName(backendName), process1, {
      connection,
      prefix: queuePrefix,
      concurrency: config.concurrency,
      name,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job whose worker died twice is failed rather than handed round forever.
      maxStalledCount: 2,
      autorun: true,
    });
    worker.on('error', (error) => {
      const message = error.message;
      if (message !== lastConnectionError) config.log(`redis ${config.redis.display}: ${message}`);
      lastConnectionError = message;
    });
    worker.on('ready', () => {
      if (lastConnectionError !== '') config.log(`redis ${config.redis.display}: connected again`);
      lastConnectionError = '';
    });
    worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) {
        const job = running.get(id);
        if (job === undefined) continue;
        job.cause ??= 'lock-lost';
        job.controller.abort('lock-lost');
      }
    });
    return worker;
  });
  await Promise.all([...workers.map((w) => w.waitUntilReady()), control.waitUntilReady()]);
  config.log(
    `worker ${name}: ${[...config.backends.keys()].join(', ')} × ${String(config.concurrency)} from ${config.redis.display}, work dir ${config.workDir}`,
  );

  let stopping: Promise<void> | null = null;
  return {
    name,
    stop: (drainMs) => {
      stopping ??= (async () => {
        const handBack = setTimeout(() => {
          if (running.size > 0)
            config.log(`handing ${String(running.size)} running job(s) back to the queue`);
          stopJobs(null, 'hand-back');
        }, drainMs);
        try {
          // close(): no new jobs; resolves once the running ones have finished or been handed back.
          await Promise.all(workers.map((w) => w.close()));
        } finally {
          clearTimeout(handBack);
        }
        await control.close();
        await Promise.all([...cleaning, slots.settle()]);
        // Nothing runs any more: the reaper finds nothing and exits.
        reaper.stdin?.end();
      })();
      return stopping;
    },
  };
}

/**
 * Sends a job's agent activity back as BullMQ job progress, batched every `progressIntervalMs` and in
 * order (one update at a time). Progress is best effort: a failed update only loses live-view lines.
 */
class ProgressSender {
  #pending: AgentActivity[] = [];
  #seq = 0;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly job: Job) {}

  add(activity: AgentActivity): void {
    this.#pending.push(activity);
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, progressIntervalMs);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const message: AttemptProgress = { seq: ++this.#seq, activities: this.#pending };
    this.#pending = [];
    this.#chain = this.#chain.then(
      () => this.job.updateProgress(message as unknown as object),
      () => undefined,
    );
    this.#chain = this.#chain.catch(() => undefined);
  }

  /** Sends what is left and waits for every update. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#flush();
    await this.#chain;
  }
}
