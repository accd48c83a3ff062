/**
 * What travels through Redis between the coordinator and the workers, as zod schemas: a stream-attempt
 * job, its result, and its progress messages. Anyone who can write to Redis can write a job, so a worker
 * trusts nothing in one: ids and refs are checked against strict patterns, the remote must be a plain
 * URL or path (no `ext::` transport, no option-looking value), and a job names an agent backend but
 * never carries a command line — the worker runs only the backends and commands it was started with.
 * Jobs carry no secrets: no credentials, no environment; workers use their own.
 */
import type { z } from 'zod';
import { backendNames } from '../agents/registry.js';
import type { AgentActivity, AgentFailureCode, Usage } from '../agents/types.js';
import { loadZod, once } from '../util/lazy.js';

/** Version of the job format; a worker refuses jobs of another version with a clear message. */
export const jobFormatVersion = 3;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const shaPattern = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** Refs a job may name: only under `refs/maestro/`, path segments of safe characters, no `..` (git's own rule too). */
const refPattern = /^refs\/maestro(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;

/** True for a git remote a worker may fetch from and push to (see the module comment). */
export function isSafeRemote(remote: string): boolean {
  if (remote.startsWith('-') || remote.includes('::') || /[\s\0]/.test(remote)) return false;
  if (/^(https?|ssh|git|file):\/\//.test(remote)) return !/^[a-z]+:\/\/[^/@]*:[^/@]*@/.test(remote);
  // An absolute path (a shared bare repository) or scp-like `user@host:path`.
  return remote.startsWith('/') || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^:]/.test(remote);
}

const buildSchemas = once(() => {
  const { z } = loadZod();
  const id = z.string().regex(idPattern);
  const sha = z.string().regex(shaPattern);
  const ref = z
    .string()
    .regex(refPattern)
    .max(400)
    .refine((r) => !r.includes('..'), 'a ref may not contain ..');
  const usage = z.object({
    inputTokens: z.number().nonnegative(),
    outputTokens: z.number().nonnegative(),
    cacheReadTokens: z.number().nonnegative(),
    cacheWriteTokens: z.number().nonnegative(),
    costUsd: z.number().nonnegative(),
    costSource: z.enum(['reported', 'priced', 'none']),
  });
  const job = z.strictObject({
    v: z.literal(jobFormatVersion),
    runId: id,
    streamId: id,
    attempt: z.int().min(1).max(1000),
    backend: z.enum(backendNames),
    remote: z.string().min(1).max(2000).refine(isSafeRemote, 'not a plain git URL or absolute path'),
    /** The ref on the remote that holds the commit to check out. */
    checkoutRef: ref,
    checkoutSha: sha,
    /** The commit the stream's changes are counted from (its start on the integration branch). */
    baseSha: sha,
    /**
     * A merge conflict handed back to the agent: this commit (published like the start commit, under
     * `startCommitRef`) is merged into the checkout first, its conflict markers left for the agent.
     */
    mergeFromSha: sha.optional(),
    /** Where the worker pushes its commit: `<resultRefPrefix>/<execution>`. */
    resultRefPrefix: ref,
    commitMessage: z.string().min(1).max(2000),
    timeoutMs: z.int().positive(),
    stallMs: z.int().positive(),
    task: z.strictObject({
      streamTitle: z.string().max(2000),
      role: id,
      roleInstructions: z.string().max(1_000_000),
      model: z.string().max(200),
      files: z.array(z.string().min(1).max(4096)).max(10_000),
      prompt: z.string().max(4_000_000),
      validationCommands: z.array(z.string().max(10_000)).max(1000),
      budgetUsd: z.number().positive().optional(),
      resumeSessionId: z.string().max(200).optional(),
      /** What the resumed session had already spent (the CLI reports session totals). */
      resumedUsage: usage.optional(),
      /** The files the agent may write (Claude Code's PreToolUse hook refuses the others). */
      ownedPaths: z.array(z.string().min(1).max(4096)).max(10_000).optional(),
    }),
  });
  const timings = z.object({
    fetchMs: z.number().nonnegative(),
    agentMs: z.number().nonnegative(),
    pushMs: z.number().nonnegative(),
  });
  const common = {
    usage,
    sessionId: z.string().optional(),
    worker: z.string(),
    timings,
  };
  const result = z.discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      commitSha: sha,
      resultRef: ref,
      changedFiles: z.array(z.string()),
      report: z.string(),
      ...common,
    }),
    z.object({
      ok: z.literal(false),
      code: z.string(),
      message: z.string(),
      /** The worker's setup failed (code `setup`): the agent did not run. */
      setup: z
        .object({
          command: z.string(),
          exitCode: z.int().nullable(),
          output: z.string(),
          durationMs: z.number(),
        })
        .optional(),
      ...common,
    }),
  ]);
  return { job, result };
});

/** A stream-attempt job as it is stored in Redis. */
export type AttemptJobData = z.infer<ReturnType<typeof buildSchemas>['job']>;

/** Failure codes of an attempt run on a worker: the agents' own and the queue's (see `AgentFailureCode`), and `setup`. */
export type QueueFailureCode = AgentFailureCode | 'setup';

/** A worker's result for one job (BullMQ's return value). Failures of the agent are results, not job failures. */
export type AttemptJobResult =
  | {
      readonly ok: true;
      readonly commitSha: string;
      readonly resultRef: string;
      readonly changedFiles: readonly string[];
      readonly report: string;
      readonly usage: Usage;
      readonly sessionId?: string;
      readonly worker: string;
      readonly timings: AttemptTimings;
    }
  | {
      readonly ok: false;
      readonly code: QueueFailureCode;
      readonly message: string;
      /** Code `setup`: the worker's setup command that failed (the agent did not run). */
      readonly setup?: WorkerSetupFailure;
      readonly usage: Usage;
      readonly sessionId?: string;
      readonly worker: string;
      readonly timings: AttemptTimings;
    };

/** A worker's setup command that failed, as the job's result reports it. */
export interface WorkerSetupFailure {
  readonly command: string;
  readonly exitCode: number | null;
  readonly output: string;
  readonly durationMs: number;
}

/** Where a worker spent an attempt's time (the queue's overhead is fetch + push). */
export interface AttemptTimings {
  readonly fetchMs: number;
  readonly agentMs: number;
  readonly pushMs: number;
}

/** A job's progress message: agent activity since the last one, in order. */
export interface AttemptProgress {
  readonly seq: number;
  readonly activities: readonly AgentActivity[];
}

/** Checks untrusted job data; the message says what is wrong. */
export function parseJobData(
  data: unknown,
): { ok: true; job: AttemptJobData } | { ok: false; message: string } {
  if (typeof data === 'object' && data !== null && 'v' in data && data.v !== jobFormatVersion)
    return {
      ok: false,
      message: `job format ${String(data.v)} is not ${String(jobFormatVersion)}: run the same Maestro version on the coordinator and the workers`,
    };
  const parsed = buildSchemas().job.safeParse(data);
  if (parsed.success) return { ok: true, job: parsed.data };
  return { ok: false, message: loadZod().prettifyError(parsed.error) };
}

/** Checks a job's result as the coordinator reads it back from Redis. */
export function parseJobResult(
  value: unknown,
): { ok: true; result: AttemptJobResult } | { ok: false; message: string } {
  const parsed = buildSchemas().result.safeParse(value);
  if (!parsed.success) return { ok: false, message: loadZod().prettifyError(parsed.error) };
  return { ok: true, result: parsed.data as AttemptJobResult };
}

/**
 * The job id of one stream attempt: the same run, stream and attempt always give the same id, so
 * enqueueing again after a coordinator crash adds nothing (BullMQ ignores a job whose id exists).
 * BullMQ job ids must not contain `:`; ids and stream ids never do (`idPattern`).
 */
export function attemptJobId(runId: string, streamId: string, attempt: number): string {
  return `${runId}--${streamId}--a${String(attempt)}`;
}

/** The remote ref under which the coordinator publishes a start commit for workers to fetch. */
export function startCommitRef(runId: string, sha: string): string {
  return `refs/maestro/${runId}/commits/${sha}`;
}

/** The remote refs under which workers push one attempt's commits (one ref per execution of the job). */
export function resultRefPrefix(runId: string, streamId: string, attempt: number): string {
  return `refs/maestro/${runId}/results/${streamId}-a${String(attempt)}`;
}

/** Every remote ref of a run, for cleaning up at its end. */
export function runRefsPattern(runId: string): string {
  return `refs/maestro/${runId}/`;
}
