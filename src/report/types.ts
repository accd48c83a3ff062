/**
 * The run report's data model: what happened to each stream, wave and the whole run, next to what the
 * analysis estimated. Plain JSON (the `--format json` output), built by a pure function from the journal.
 */
import type { StreamEstimate } from '../analyze/types.js';
import type { Usage } from '../agents/types.js';
import type { RunStatus, StreamStatus, BatchRecord, QueueTotals } from '../run/types.js';

/** Bumped when a field changes meaning or disappears (adding fields does not bump it). */
export const reportSchemaVersion = 1;

/** A stretch of a stream's life on the timeline; `merged`/`failed`/`skipped` are end markers (start = end). */
export type SegmentKind = 'waiting' | 'running' | 'validating' | 'merged' | 'failed' | 'skipped';

/** One piece of a stream's Gantt bar. */
export interface TimelineSegment {
  readonly kind: SegmentKind;
  /** ISO times. */
  readonly start: string;
  readonly end: string;
  /** Agent attempt (1-based) the segment runs, validates, or waits for. */
  readonly attempt: number;
}

/** Timestamps of a stream's milestones (ISO, null when it never got there). */
export interface StreamTiming {
  /** When the stream became schedulable: the run start, or its wave's start in `waves` mode. */
  readonly queuedAt: string | null;
  /** First agent start. */
  readonly startedAt: string | null;
  /** Last agent end. */
  readonly agentDoneAt: string | null;
  /** Start of the last post-agent stretch (commit, ownership check, merge, gates). */
  readonly validatingAt: string | null;
  /** Merge that stuck (null if it was undone and the stream later failed). */
  readonly mergedAt: string | null;
  readonly failedAt: string | null;
  readonly skippedAt: string | null;
  /** When the stream settled: merged and green, failed or skipped. */
  readonly endedAt: string | null;
}

/** How a completion report deals with one critical fix. */
export type FixCoverage =
  /** The report names the fix id. */
  | 'mentioned'
  /** The report does not name it but uses most of the fix's key words. */
  | 'covered'
  | 'not-mentioned'
  /** There is no completion report to check. */
  | 'no-report';

/** One critical fix attached to a stream and whether its completion report addresses it. */
export interface FixReport {
  readonly id: string;
  readonly text: string;
  readonly coverage: FixCoverage;
}

/** One validation gate result that concerned a stream (its own gate, or the wave gate after its merge). */
export interface ValidationReport {
  readonly time: string;
  readonly passed: boolean;
  /** The commands the gate ran (from `validation-started`), or the failing one. */
  readonly commands: readonly string[];
  readonly exitCode: number | null;
  /** Tail of the failing command's output (empty when it passed). */
  readonly output: string;
  /** True when the gate ran for a whole wave rather than this stream alone. */
  readonly shared: boolean;
}

/** Tokens and cost summed over a stream's attempts (or a wave, or the run). */
export interface UsageTotals {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly costUsd: number;
}

/** Everything the report says about one stream. */
export interface StreamReport {
  readonly id: string;
  readonly title: string;
  readonly phaseId: string | null;
  readonly role: string;
  readonly model: string | null;
  /** 1-based wave number, null when unknown. */
  readonly wave: number | null;
  readonly status: StreamStatus;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly dependsOn: readonly string[];
  readonly implicitDependsOn: readonly string[];
  /** Paths and globs the stream owns, as the plan gives them. */
  readonly ownedFiles: readonly string[];
  /** Paths its last commit changed. */
  readonly changedFiles: readonly string[];
  /** Out-of-scope paths the ownership check found (`fail` stops the stream; `warn` only reports). */
  readonly ownershipViolations: readonly {
    readonly paths: readonly string[];
    readonly mode: 'fail' | 'warn';
  }[];
  readonly mergeConflicts: readonly (readonly string[])[];
  readonly criticalFixes: readonly FixReport[];
  readonly validations: readonly ValidationReport[];
  /** Agent runs (1 for the first). */
  readonly attempts: number;
  readonly retries: number;
  readonly retryReasons: readonly string[];
  readonly timing: StreamTiming;
  readonly segments: readonly TimelineSegment[];
  /** Agent time summed over attempts. */
  readonly agentMs: number;
  /** First start to settling (null when it never started or never settled). */
  readonly wallMs: number | null;
  readonly usage: UsageTotals;
  readonly estimate: StreamEstimate | null;
  /** Path of the completion report relative to the run directory, when there is one. */
  readonly completionReport: string | null;
}

/** Counts of streams by final status. */
export type StatusCounts = Readonly<Record<StreamStatus, number>>;

/** Aggregates over the streams of one wave. */
export interface WaveReport {
  /** 1-based. */
  readonly wave: number;
  readonly streamIds: readonly string[];
  readonly counts: StatusCounts;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly wallMs: number | null;
  readonly agentMs: number;
  readonly usage: UsageTotals;
  /** The analysis's estimate for the wave: its longest stream, and the summed cost. */
  readonly estimatedMinutes: number | null;
  readonly estimatedCostUsd: number | null;
}

/** Totals over the whole run. */
export interface RunTotals {
  readonly streams: number;
  readonly counts: StatusCounts;
  readonly agentMs: number;
  readonly makespanMs: number | null;
  /** Agent time divided by makespan: how many agents worked at once on average. */
  readonly averageParallelism: number | null;
  readonly usage: UsageTotals;
  readonly retries: number;
  readonly ownershipViolations: number;
  /** Distinct critical fixes given to streams, and those at least one of their streams addressed. */
  readonly criticalFixes: { readonly total: number; readonly addressed: number };
}

/** The analysis's estimate next to what the run took. */
export interface EstimateComparison {
  readonly model: string;
  readonly estimatedMinutes: {
    readonly sequential: number;
    readonly waves: number;
    readonly dynamic: number;
  };
  readonly actualMinutes: number | null;
  readonly estimatedCostUsd: number;
  readonly actualCostUsd: number;
  readonly estimatedTokens: { readonly input: number; readonly output: number };
  readonly actualTokens: { readonly input: number; readonly output: number };
  readonly method: string;
}

/** A dependency edge between streams (`from` must merge before `to` starts). */
export interface ReportEdge {
  readonly from: string;
  readonly to: string;
  /** True for edges added because two streams share a file. */
  readonly implicit: boolean;
}

/** The whole report. */
export interface RunReport {
  readonly schemaVersion: typeof reportSchemaVersion;
  readonly runId: string;
  readonly planTitle: string;
  readonly planSource: string;
  readonly status: RunStatus;
  readonly baseRef: string;
  readonly integrationBranch: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly streams: readonly StreamReport[];
  readonly waves: readonly WaveReport[];
  readonly edges: readonly ReportEdge[];
  readonly criticalPath: readonly string[];
  readonly totals: RunTotals;
  readonly estimate: EstimateComparison | null;
  readonly notes: readonly string[];
  /** The merge queue: gated batches with their gate runs, and what `--speculate` wasted (absent when nothing was gated). */
  readonly mergeQueue?: MergeQueueReport;
  /** `--redis`: what the run queue cost, summed over the attempts that ran on workers (absent for a local run). */
  readonly runQueue?: QueueTotals;
}

/** How the merge queue went: each gated batch, the gate runs in all, and discarded speculative work. */
export interface MergeQueueReport {
  readonly batches: readonly BatchRecord[];
  readonly gateRuns: number;
  readonly speculation: {
    readonly discarded: number;
    readonly agentMs: number;
    readonly costUsd: number;
  } | null;
  /** Streams whose merge conflicts were handed back to their agents: what resolving cost next to the first full attempt. */
  readonly handBacks?: readonly ConflictHandBackReport[];
}

/** One stream's conflicts handed back to its agent. */
export interface ConflictHandBackReport {
  readonly streamId: string;
  /** Conflicts handed back (resolution attempts). */
  readonly handBacks: number;
  /** How the stream ended. */
  readonly status: StreamStatus;
  /** Spent resolving, over every resolution attempt (null: nothing reported). */
  readonly resolutionUsage: Usage | null;
  /** Spent by its first, full attempt: about what a re-run from scratch would have cost again. */
  readonly firstAttemptUsage: Usage | null;
}
