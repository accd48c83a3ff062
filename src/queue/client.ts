/**
 * The coordinator's side of the run queue: publishes a stream attempt's start commit on the git remote,
 * enqueues the attempt as a BullMQ job with a deterministic id, relays the worker's progress as agent
 * activity, and on the result fetches the worker's commit back. One job per attempt; the id
 * (run + stream + attempt) makes enqueueing again after a coordinator crash a no-op, and a coordinator
 * that resumes re-attaches to the job of the attempt it was waiting for instead of running it again.
 *
 * Redis going away pauses everything here (commands wait for the connection to come back; see
 * `connectionOptions`); `onConnection` reports it so the run can say so. Nothing is lost: jobs, results
 * and progress events live in Redis, and the journal is the coordinator's own.
 */
import type { Job, Queue, QueueEvents, QueueEventsProducer } from 'bullmq';
import type { AgentActivity } from '../agents/types.js';
import { noUsage } from '../agents/types.js';
import type { QueueAttemptRecord } from '../run/types.js';
import {
  attemptQueueName,
  cancelRunEvent,
  connectionOptions,
  controlQueueName,
  queuePrefix,
  type RedisTarget,
} from './connection.js';
import { fetchRef, pushCommit, RemoteError } from './remote.js';
import {
  attemptJobId,
  jobFormatVersion,
  parseJobData,
  parseJobResult,
  resultRefPrefix,
  startCommitRef,
  type AttemptJobData,
  type AttemptJobResult,
  type QueueFailureCode,
  type WorkerSetupFailure,
} from './schema.js';

/** What the coordinator asks for: run this attempt from this commit. */
export interface QueueAttemptRequest {
  readonly runId: string;
  readonly streamId: string;
  readonly attempt: number;
  readonly backend: AttemptJobData['backend'];
  /** The commit the worker checks out (the integration commit, or the stream's last commit on a retry). */
  readonly checkoutSha: string;
  /** The commit the stream's changes are counted from. */
  readonly baseSha: string;
  /** A conflict handed back: this commit is merged into the checkout before the agent starts. */
  readonly mergeFromSha?: string;
  /** The local branch the worker's commit is fetched into. */
  readonly branch: string;
  readonly commitMessage: string;
  readonly timeoutMs: number;
  readonly stallMs: number;
  readonly task: AttemptJobData['task'];
}

/** How an attempt ended, as the coordinator sees it: a commit in the local repository, or a failure value. */
export type QueueAttemptOutcome = (
  | (Extract<AttemptJobResult, { ok: true }> & {
      /** The commit the job counted its changes from (an earlier one for a re-attached job). */
      readonly baseSha: string;
    })
  | {
      readonly ok: false;
      readonly code: QueueFailureCode;
      readonly message: string;
      /** Code `setup`: the worker's setup command that failed. */
      readonly setup?: WorkerSetupFailure;
      readonly usage: AttemptJobResult['usage'];
      readonly sessionId?: string;
    }
) & { readonly jobId: string; readonly costs: QueueAttemptRecord };

/** An attempt's costs as they are counted. */
type Costs = { -readonly [K in keyof QueueAttemptRecord]: QueueAttemptRecord[K] };

/** Hooks for what the run should record. */
export interface QueueClientHooks {
  /** Something the journal should say (re-attached jobs, ignored late results, Redis down and back). */
  readonly note: (message: string) => void;
}

interface Waiter {
  readonly runId: string;
  readonly onActivity: (activity: AgentActivity) => void;
  settle: (kind: 'completed' | 'failed' | 'removed', reason: string) => void;
}

const activityKinds = new Set(['output', 'edit', 'command', 'retry', 'usage', 'warning']);

/** Keeps only well-formed activities from a worker's progress message (it crossed Redis: trust nothing). */
export function activitiesOf(data: unknown): AgentActivity[] {
  if (typeof data !== 'object' || data === null || !('activities' in data)) return [];
  const list = data.activities;
  if (!Array.isArray(list)) return [];
  const out: AgentActivity[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const a = item as Record<string, unknown>;
    if (typeof a['kind'] !== 'string' || !activityKinds.has(a['kind'])) continue;
    const str = (key: string) => (typeof a[key] === 'string' ? a[key] : null);
    switch (a['kind']) {
      case 'output': {
        const text = str('text');
        if (text !== null) out.push({ kind: 'output', text });
        break;
      }
      case 'edit': {
        const p = str('path');
        if (p !== null) out.push({ kind: 'edit', path: p });
        break;
      }
      case 'command': {
        const command = str('command');
        if (command !== null) out.push({ kind: 'command', command });
        break;
      }
      case 'warning': {
        const message = str('message');
        if (message !== null) out.push({ kind: 'warning', message });
        break;
      }
      case 'retry':
        if (typeof a['attempt'] === 'number')
          out.push({
            kind: 'retry',
            attempt: a['attempt'],
            ...(typeof a['status'] === 'number' ? { status: a['status'] } : {}),
          });
        break;
      case 'usage': {
        const parsed = parseJobResult({
          ok: false,
          code: 'x',
          message: '',
          usage: a['usage'],
          worker: '',
          timings: { fetchMs: 0, agentMs: 0, pushMs: 0 },
        });
        if (parsed.ok) out.push({ kind: 'usage', usage: parsed.result.usage });
        break;
      }
    }
  }
  return out;
}

/** The coordinator's connection to the run queues. Create with `QueueClient.connect`; `close` when done. */
export class QueueClient {
  readonly #queues = new Map<string, { queue: Queue; events: QueueEvents }>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #published = new Map<string, Promise<void>>();
  #control: QueueEventsProducer | null = null;
  #redisDown = false;

  private constructor(
    private readonly bull: typeof import('bullmq'),
    readonly redis: RedisTarget,
    /** The coordinator's repository, and the remote (name or URL) it pushes to and fetches from. */
    readonly repo: string,
    readonly remote: string,
    /** The remote as workers reach it (the job's `remote`): its URL, never carrying credentials. */
    readonly remoteForWorkers: string,
    private hooks: QueueClientHooks,
  ) {}

  /** Sends the client's notes to `note` from now on (the run's journal, once the run has one). */
  setNote(note: (message: string) => void): void {
    this.hooks = { note };
  }

  /** Loads BullMQ (only runs with `--redis` do) and prepares the client; nothing connects until first use. */
  static async connect(options: {
    redis: RedisTarget;
    repo: string;
    remote: string;
    remoteForWorkers: string;
    hooks: QueueClientHooks;
  }): Promise<QueueClient> {
    const bull = await import('bullmq');
    return new QueueClient(
      bull,
      options.redis,
      options.repo,
      options.remote,
      options.remoteForWorkers,
      options.hooks,
    );
  }

  #connectionError = (error: Error): void => {
    if (this.#redisDown) return;
    this.#redisDown = true;
    this.hooks.note(
      `Redis at ${this.redis.display} is unreachable (${error.message}); the run is paused and continues when Redis is back (Ctrl-C keeps it resumable)`,
    );
  };

  #connectionReady = (): void => {
    if (!this.#redisDown) return;
    this.#redisDown = false;
    this.hooks.note(`Redis at ${this.redis.display} is reachable again; the run continues`);
  };

  #queueFor(backend: string): { queue: Queue; events: QueueEvents } {
    const name = attemptQueueName(backend);
    const known = this.#queues.get(name);
    if (known !== undefined) return known;
    const connection = connectionOptions(this.redis);
    const queue = new this.bull.Queue(name, { connection, prefix: queuePrefix });
    const events = new this.bull.QueueEvents(name, { connection, prefix: queuePrefix });
    queue.on('error', this.#connectionError);
    events.on('error', this.#connectionError);
    void queue
      .getBackend()
      .client.then((client: { on?: (event: string, listener: () => void) => void }) => {
        client.on?.('ready', this.#connectionReady);
      })
      .catch(() => undefined);
    events.on('progress', ({ jobId, data }) => {
      const waiter = this.#waiters.get(jobId);
      if (waiter === undefined) return;
      for (const activity of activitiesOf(data)) waiter.onActivity(activity);
    });
    events.on('stalled', ({ jobId }) => {
      this.#waiters.get(jobId)?.onActivity({
        kind: 'warning',
        message: 'its worker stopped responding; the job went back to the queue for another worker',
      });
    });
    events.on('completed', ({ jobId }) => {
      const waiter = this.#waiters.get(jobId);
      if (waiter !== undefined) waiter.settle('completed', '');
      else this.#lateResult(jobId);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.#waiters.get(jobId)?.settle('failed', failedReason);
    });
    events.on('removed', ({ jobId }) => {
      this.#waiters.get(jobId)?.settle('removed', 'the job was removed from the queue');
    });
    const entry = { queue, events };
    this.#queues.set(name, entry);
    return entry;
  }

  /** A result for a job of one of this client's runs that nobody waits for: a superseded attempt. */
  #lateResult(jobId: string): void {
    for (const waiter of this.#waiters.values()) {
      if (!jobId.startsWith(`${waiter.runId}--`)) continue;
      this.hooks.note(`ignored the late result of job ${jobId}: a later attempt of that stream counts`);
      return;
    }
  }

  /** Publishes `sha` under the run's ref on the remote, once per commit for every attempt that starts there. */
  #publish(runId: string, sha: string): Promise<void> {
    const key = `${runId} ${sha}`;
    let pushed = this.#published.get(key);
    if (pushed === undefined) {
      pushed = pushCommit(this.repo, this.remote, sha, startCommitRef(runId, sha));
      pushed.catch(() => this.#published.delete(key));
      this.#published.set(key, pushed);
    }
    return pushed;
  }

  /**
   * Runs one attempt on a worker and returns its outcome, with the worker's commit fetched into
   * `request.branch`. Expected failures are values; aborting `signal` cancels the job (a waiting job is
   * removed, a running one is stopped on its worker) and returns `killed`.
   */
  async runAttempt(
    request: QueueAttemptRequest,
    signal: AbortSignal,
    onActivity: (activity: AgentActivity) => void,
  ): Promise<QueueAttemptOutcome> {
    const { queue, events } = this.#queueFor(request.backend);
    await events.waitUntilReady();
    const costs: Costs = {
      jobId: '',
      worker: null,
      publishMs: 0,
      enqueueMs: 0,
      fetchMs: 0,
      pushMs: 0,
      resultMs: 0,
    };
    const failed = (jobId: string, code: QueueFailureCode, message: string): QueueAttemptOutcome => ({
      ok: false,
      code,
      message,
      usage: noUsage,
      jobId,
      costs,
    });
    // A coordinator that stopped (kill -9) while attempt N-1 ran finds its job still queued, running or
    // finished but unread (read results are removed): that job's result is this attempt's.
    let jobId = attemptJobId(request.runId, request.streamId, request.attempt);
    for (let earlier = request.attempt - 1; earlier >= Math.max(1, request.attempt - 5); earlier--) {
      const previousId = attemptJobId(request.runId, request.streamId, earlier);
      const previous = await queue.getJob(previousId);
      if (previous === undefined) continue;
      const state = await previous.getState();
      if (state === 'failed' || state === 'unknown') {
        await previous.remove().catch(() => undefined);
        continue;
      }
      jobId = previousId;
      this.hooks.note(
        `${request.streamId}: attempt ${String(request.attempt)} re-attaches to job ${previousId} (${state}), queued before the coordinator stopped; its result counts`,
      );
      break;
    }
    costs.jobId = jobId;
    if (signal.aborted) return failed(jobId, 'killed', 'stopped before the job was queued');
    const publishing = performance.now();
    try {
      await Promise.all([
        this.#publish(request.runId, request.checkoutSha),
        ...(request.mergeFromSha === undefined ? [] : [this.#publish(request.runId, request.mergeFromSha)]),
      ]);
      costs.publishMs = Math.round(performance.now() - publishing);
    } catch (error) {
      if (error instanceof RemoteError) return failed(jobId, 'remote-unreachable', error.message);
      throw error;
    }
    const settled = new Promise<{ kind: 'completed' | 'failed' | 'removed' | 'aborted'; reason: string }>(
      (resolve) => {
        this.#waiters.set(jobId, {
          runId: request.runId,
          onActivity,
          settle: (kind, reason) => {
            resolve({ kind, reason });
          },
        });
        signal.addEventListener(
          'abort',
          () => {
            resolve({ kind: 'aborted', reason: 'aborted' });
          },
          { once: true },
        );
      },
    );
    try {
      const data: AttemptJobData = {
        v: jobFormatVersion,
        runId: request.runId,
        streamId: request.streamId,
        attempt: request.attempt,
        backend: request.backend,
        remote: this.remoteForWorkers,
        checkoutRef: startCommitRef(request.runId, request.checkoutSha),
        checkoutSha: request.checkoutSha,
        baseSha: request.baseSha,
        ...(request.mergeFromSha === undefined ? {} : { mergeFromSha: request.mergeFromSha }),
        resultRefPrefix: resultRefPrefix(request.runId, request.streamId, request.attempt),
        commitMessage: request.commitMessage,
        timeoutMs: request.timeoutMs,
        stallMs: request.stallMs,
        task: request.task,
      };
      const started = performance.now();
      // Same id, same job: BullMQ ignores an add whose id exists. Results are removed once read; the age
      // limits only clear what an abandoned run left behind.
      await queue.add('attempt', data, {
        jobId,
        attempts: 1,
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      costs.enqueueMs = Math.round(performance.now() - started);
      // It may have finished before we listened (a re-attached job): look once.
      const job = await queue.getJob(jobId);
      const state = job === undefined ? 'unknown' : await job.getState();
      const end =
        state === 'completed'
          ? { kind: 'completed' as const, reason: '' }
          : state === 'failed'
            ? { kind: 'failed' as const, reason: job?.failedReason ?? '' }
            : await settled;
      switch (end.kind) {
        case 'aborted':
          await this.#cancel(queue, jobId, request.runId);
          return failed(jobId, 'killed', 'stopped: the run was interrupted');
        case 'removed':
          return failed(jobId, 'cancelled', 'the job was removed from the queue (maestro abort?)');
        case 'failed': {
          await (await queue.getJob(jobId))?.remove().catch(() => undefined);
          const lost = /stalled more than allowable limit/i.test(end.reason);
          return failed(
            jobId,
            lost ? 'worker-lost' : /cancelled/.test(end.reason) ? 'cancelled' : 'bad-job',
            lost
              ? 'the workers running this attempt kept dying or losing Redis; check the workers’ logs, then `maestro resume`'
              : end.reason,
          );
        }
        case 'completed':
          return await this.#takeResult(queue, jobId, request, costs);
      }
    } finally {
      this.#waiters.delete(jobId);
    }
  }

  /**
   * Reads a completed job's result and fetches its commit into the stream's branch. A read result is
   * consumed: its job is removed (alongside the fetch) before the engine hears of it, so a resumed
   * coordinator never re-attaches to it (a crash in between only means that attempt runs again).
   */
  async #takeResult(
    queue: Queue,
    jobId: string,
    request: QueueAttemptRequest,
    costs: Costs,
  ): Promise<QueueAttemptOutcome> {
    const started = performance.now();
    const job: Job | undefined = await queue.getJob(jobId);
    const removed = job?.remove().catch(() => undefined);
    const parsed = parseJobResult(job?.returnvalue);
    if (!parsed.ok) {
      await removed;
      const message = `unreadable job result: ${parsed.message}`;
      return { ok: false, code: 'bad-result', message, usage: noUsage, jobId, costs };
    }
    const result = parsed.result;
    costs.worker = result.worker;
    costs.fetchMs = Math.round(result.timings.fetchMs);
    costs.pushMs = Math.round(result.timings.pushMs);
    const fail = async (code: QueueFailureCode, message: string): Promise<QueueAttemptOutcome> => {
      await removed;
      costs.resultMs = Math.round(performance.now() - started);
      const session = result.sessionId === undefined ? {} : { sessionId: result.sessionId };
      return { ok: false, code, message, usage: result.usage, ...session, jobId, costs };
    };
    if (!result.ok) {
      if (result.setup === undefined) return fail(result.code, `${result.message} (worker ${result.worker})`);
      const outcome = await fail(result.code, result.message);
      return { ...outcome, ok: false, code: 'setup', message: result.message, setup: result.setup };
    }
    let fetched: string;
    try {
      fetched = await fetchRef(this.repo, this.remote, result.resultRef, `refs/heads/${request.branch}`);
    } catch (error) {
      if (error instanceof RemoteError) return fail('remote-unreachable', error.message);
      throw error;
    }
    if (fetched !== result.commitSha)
      return fail(
        'bad-result',
        `worker ${result.worker} reported ${result.commitSha.slice(0, 10)} but ${result.resultRef} holds ${fetched.slice(0, 10)}`,
      );
    await removed;
    costs.resultMs = Math.round(performance.now() - started);
    const data = parseJobData(job?.data);
    return { ...result, jobId, costs, baseSha: data.ok ? data.job.baseSha : request.baseSha };
  }

  /** Cancels one job: removed when still waiting, else its run's agents are stopped on their workers. */
  async #cancel(queue: Queue, jobId: string, runId: string): Promise<void> {
    const job = await queue.getJob(jobId);
    if (job === undefined) return;
    const removed = await job.remove().then(
      () => true,
      () => false,
    );
    if (removed) return;
    await this.cancelRun(runId);
  }

  /** Tells every worker to stop the agents of `runId` (a control event; workers drop its jobs). */
  async cancelRun(runId: string): Promise<void> {
    this.#control ??= new this.bull.QueueEventsProducer(controlQueueName, {
      connection: connectionOptions(this.redis),
      prefix: queuePrefix,
    });
    await this.#control.publishEvent({ eventName: cancelRunEvent, runId });
  }

  /**
   * Cancels everything of a run that is still in the queues (`maestro abort` after the coordinator is
   * gone): removes waiting jobs, stops running ones, and waits until none of its jobs is active.
   */
  async cancelRunJobs(runId: string, backends: readonly string[], timeoutMs = 30_000): Promise<number> {
    await this.cancelRun(runId);
    const deadline = Date.now() + timeoutMs;
    let cancelled = 0;
    for (const backend of backends) {
      const { queue } = this.#queueFor(backend);
      const ofRun = (job: Job | undefined): job is Job =>
        job !== undefined && (job.data as { runId?: unknown }).runId === runId;
      for (const job of (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter(ofRun)) {
        if (
          await job.remove().then(
            () => true,
            () => false,
          )
        )
          cancelled += 1;
      }
      for (;;) {
        const active = (await queue.getJobs(['active'])).filter(ofRun);
        if (active.length === 0) break;
        if (Date.now() > deadline)
          throw new RemoteError(
            `${String(active.length)} job(s) of run ${runId} still run on workers: ${active.map((j) => j.id ?? '?').join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
      for (const job of (await queue.getJobs(['failed', 'completed'])).filter(ofRun)) {
        await job.remove().catch(() => undefined);
        cancelled += 1;
      }
    }
    return cancelled;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    const all: Promise<unknown>[] = [];
    for (const { queue, events } of this.#queues.values()) all.push(queue.close(), events.close());
    if (this.#control !== null) all.push(this.#control.close());
    await Promise.allSettled(all);
    this.#queues.clear();
  }
}
