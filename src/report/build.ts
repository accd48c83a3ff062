/**
 * Builds a `RunReport` from the analysis and the run's journal. Pure: the caller reads the files.
 */
import type { Analysis, Stream } from '../analyze/types.js';
import type { CriticalFix } from '../plan/types.js';
import type { Usage } from '../agents/types.js';
import { replay } from '../run/state.js';
import type { RunEvent, RunState, StreamState, StreamStatus } from '../run/types.js';
import { fixCoverage, isAddressed } from './fixes.js';
import { emptyTiming, streamHistories } from './history.js';
import type { StreamHistory } from './history.js';
import type {
  EstimateComparison,
  MergeQueueReport,
  ReportEdge,
  RunReport,
  RunTotals,
  StatusCounts,
  StreamReport,
  UsageTotals,
  WaveReport,
} from './types.js';
import { reportSchemaVersion } from './types.js';

/** A stream's completion report as found in the run directory. */
export interface CompletionReport {
  /** Path relative to the run directory. */
  readonly path: string;
  readonly text: string;
}

/** What a report is built from. */
export interface ReportInput {
  /** The journal (`events.jsonl`), in order. */
  readonly events: readonly RunEvent[];
  /** The analysis the run executed; without it streams are known by id only. */
  readonly analysis: Analysis | null;
  /** Completion reports by stream id. */
  readonly completionReports?: ReadonlyMap<string, CompletionReport>;
}

const zeroUsage: UsageTotals = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0,
};

function usageTotals(usage: Usage | null): UsageTotals {
  if (usage === null) return zeroUsage;
  const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, costUsd } = usage;
  return { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, costUsd };
}

function sumUsage(items: readonly UsageTotals[]): UsageTotals {
  return items.reduce(
    (a, b) => ({
      inputTokens: a.inputTokens + b.inputTokens,
      outputTokens: a.outputTokens + b.outputTokens,
      cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
      cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
      costUsd: a.costUsd + b.costUsd,
    }),
    zeroUsage,
  );
}

function countStatuses(streams: readonly StreamReport[]): StatusCounts {
  const counts: Record<StreamStatus, number> = {
    pending: 0,
    running: 0,
    committed: 0,
    merged: 0,
    failed: 0,
    skipped: 0,
    interrupted: 0,
  };
  for (const stream of streams) counts[stream.status] += 1;
  return counts;
}

/** Milliseconds between two ISO times, or null when either is missing. */
function between(start: string | null, end: string | null): number | null {
  if (start === null || end === null) return null;
  return Math.max(0, Date.parse(end) - Date.parse(start));
}

function minTime(times: readonly (string | null)[]): string | null {
  const known = times.filter((t): t is string => t !== null).sort();
  return known[0] ?? null;
}

function maxTime(times: readonly (string | null)[]): string | null {
  const known = times.filter((t): t is string => t !== null).sort();
  return known.at(-1) ?? null;
}

/** A run state when the journal lacks `run-started` (a run that died before its first event). */
function emptyState(streamIds: readonly string[]): RunState {
  const state = replay([
    {
      type: 'run-started',
      time: new Date(0).toISOString(),
      runId: 'unknown',
      repo: '',
      planSource: '',
      baseRef: '',
      baseSha: '',
      baseBranchRef: null,
      integrationBranch: '',
      streamIds,
    },
  ]);
  if (state === null) throw new Error('replay ignored run-started');
  return { ...state, startedAt: '', status: 'running' };
}

function waveOf(analysis: Analysis | null, events: readonly RunEvent[]): Map<string, number> {
  const waves = new Map<string, number>();
  analysis?.waves.forEach((ids, index) => {
    for (const id of ids) waves.set(id, index + 1);
  });
  for (const event of events) {
    if (event.type !== 'wave-started') continue;
    for (const id of event.streamIds) if (!waves.has(id)) waves.set(id, event.wave);
  }
  return waves;
}

function streamReport(
  id: string,
  state: StreamState | undefined,
  plan: Stream | undefined,
  fixes: ReadonlyMap<string, CriticalFix>,
  completion: CompletionReport | undefined,
  wave: number | undefined,
  history: StreamHistory | undefined,
): StreamReport {
  const reportText = completion?.text ?? null;
  const timing = history?.timing ?? emptyTiming();
  return {
    id,
    title: plan?.title ?? id,
    phaseId: plan?.phaseId ?? null,
    role: plan?.role ?? 'unknown',
    model: plan?.model ?? null,
    wave: wave ?? null,
    status: state?.status ?? 'pending',
    error: state?.error ?? null,
    dependsOn: plan?.dependsOn ?? [],
    implicitDependsOn: plan?.implicitDependsOn ?? [],
    ownedFiles: plan?.files.map((file) => file.path) ?? [],
    changedFiles: state?.changedFiles ?? [],
    ownershipViolations: history?.ownershipViolations ?? [],
    mergeConflicts: history?.mergeConflicts ?? [],
    criticalFixes: (plan?.criticalFixes ?? []).map((fixId) => {
      const text = fixes.get(fixId)?.text ?? '';
      return { id: fixId, text, coverage: fixCoverage(reportText, { id: fixId, text }) };
    }),
    validations: history?.validations ?? [],
    attempts: state?.attempts ?? 0,
    retries: state?.retries ?? 0,
    retryReasons: history?.retryReasons ?? [],
    timing,
    segments: history?.segments ?? [],
    agentMs: state?.durationMs ?? 0,
    wallMs: between(timing.startedAt, timing.endedAt),
    usage: usageTotals(state?.usage ?? null),
    estimate: plan?.estimate ?? null,
    completionReport: completion?.path ?? null,
  };
}

function waveReports(streams: readonly StreamReport[]): WaveReport[] {
  const numbers = [...new Set(streams.map((s) => s.wave).filter((w): w is number => w !== null))].sort(
    (a, b) => a - b,
  );
  return numbers.map((wave) => {
    const members = streams.filter((s) => s.wave === wave);
    const startedAt = minTime(members.map((s) => s.timing.startedAt));
    const endedAt = maxTime(members.map((s) => s.timing.endedAt));
    const estimates = members.map((s) => s.estimate).filter((e) => e !== null);
    return {
      wave,
      streamIds: members.map((s) => s.id),
      counts: countStatuses(members),
      startedAt,
      endedAt,
      wallMs: between(startedAt, endedAt),
      agentMs: members.reduce((sum, s) => sum + s.agentMs, 0),
      usage: sumUsage(members.map((s) => s.usage)),
      estimatedMinutes: estimates.length > 0 ? Math.max(...estimates.map((e) => e.minutes)) : null,
      estimatedCostUsd: estimates.length > 0 ? estimates.reduce((sum, e) => sum + e.costUsd, 0) : null,
    };
  });
}

function totals(
  streams: readonly StreamReport[],
  startedAt: string | null,
  endedAt: string | null,
): RunTotals {
  const agentMs = streams.reduce((sum, s) => sum + s.agentMs, 0);
  const makespanMs = between(startedAt, endedAt);
  // Count fixes, not stream/fix pairs: a fix given to several streams is addressed once one of them did.
  const addressedById = new Map<string, boolean>();
  for (const f of streams.flatMap((s) => s.criticalFixes))
    addressedById.set(f.id, (addressedById.get(f.id) ?? false) || isAddressed(f.coverage));
  return {
    streams: streams.length,
    counts: countStatuses(streams),
    agentMs,
    makespanMs,
    averageParallelism: makespanMs !== null && makespanMs > 0 ? agentMs / makespanMs : null,
    usage: sumUsage(streams.map((s) => s.usage)),
    retries: streams.reduce((sum, s) => sum + s.retries, 0),
    ownershipViolations: streams.reduce((sum, s) => sum + s.ownershipViolations.length, 0),
    criticalFixes: {
      total: addressedById.size,
      addressed: [...addressedById.values()].filter((addressed) => addressed).length,
    },
  };
}

function estimateComparison(analysis: Analysis, run: RunTotals): EstimateComparison {
  const { estimate } = analysis;
  return {
    model: estimate.model,
    estimatedMinutes: estimate.minutes,
    actualMinutes: run.makespanMs === null ? null : run.makespanMs / 60_000,
    estimatedCostUsd: estimate.costUsd,
    actualCostUsd: run.usage.costUsd,
    estimatedTokens: { input: estimate.inputTokens, output: estimate.outputTokens },
    actualTokens: { input: run.usage.inputTokens, output: run.usage.outputTokens },
    method: estimate.method,
  };
}

function edges(streams: readonly StreamReport[]): ReportEdge[] {
  return streams.flatMap((s) => [
    ...s.dependsOn.map((from) => ({ from, to: s.id, implicit: false })),
    ...s.implicitDependsOn.map((from) => ({ from, to: s.id, implicit: true })),
  ]);
}

/** Builds the report of one run from its analysis and journal. */
export function buildRunReport(input: ReportInput): RunReport {
  const { events, analysis } = input;
  const analysed = analysis?.streams ?? [];
  const runStarted = events.find((e) => e.type === 'run-started');
  const ids = [...new Set([...analysed.map((s) => s.id), ...(runStarted?.streamIds ?? [])])];
  const state = replay(events) ?? emptyState(ids);
  const histories = streamHistories(events, ids);
  const byId = new Map(analysed.map((s) => [s.id, s]));
  const fixes = new Map((analysis?.criticalFixes ?? []).map((f) => [f.id, f]));
  const waves = waveOf(analysis, events);
  const streams = ids.map((id) =>
    streamReport(
      id,
      state.streams[id],
      byId.get(id),
      fixes,
      input.completionReports?.get(id),
      waves.get(id),
      histories.get(id),
    ),
  );
  const startedAt = runStarted?.time ?? null;
  const endedAt = state.endedAt ?? maxTime(streams.map((s) => s.timing.endedAt));
  const runTotals = totals(streams, startedAt, endedAt);
  return {
    schemaVersion: reportSchemaVersion,
    runId: state.runId,
    planTitle: analysis?.plan.title ?? state.planSource,
    planSource: analysis?.plan.source ?? state.planSource,
    status: state.status,
    baseRef: state.baseRef,
    integrationBranch: state.integrationBranch,
    startedAt,
    endedAt,
    streams,
    waves: waveReports(streams),
    edges: edges(streams),
    criticalPath: analysis?.criticalPath ?? [],
    totals: runTotals,
    estimate: analysis === null ? null : estimateComparison(analysis, runTotals),
    notes: state.notes,
    ...mergeQueueReport(state),
    ...(state.queue === undefined ? {} : { runQueue: state.queue }),
  };
}

/** The merge queue's part of the report, when something was gated or speculated. */
function mergeQueueReport(state: RunState): { mergeQueue?: MergeQueueReport } {
  const batches = state.batches ?? [];
  const speculation = state.speculation ?? null;
  const handBacks = Object.values(state.streams)
    .filter((s) => s.conflictRetries > 0)
    .map((s) => ({
      streamId: s.id,
      handBacks: s.conflictRetries,
      status: s.status,
      resolutionUsage: s.resolutionUsage ?? null,
      firstAttemptUsage: s.firstAttemptUsage ?? null,
    }));
  if (batches.length === 0 && speculation === null && handBacks.length === 0) return {};
  return {
    mergeQueue: {
      batches,
      gateRuns: batches.reduce((n, b) => n + b.gateRuns, 0),
      speculation,
      ...(handBacks.length === 0 ? {} : { handBacks }),
    },
  };
}
