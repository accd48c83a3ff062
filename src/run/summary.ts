/** The end-of-run summary: per stream status, duration, files, retries, cost; totals; how to take the result. */
import type { Usage } from '../agents/types.js';
import type { Analysis } from '../analyze/types.js';
import { addUsage } from './state.js';
import type { QueueCosts, RunState, StreamState } from './types.js';

/** What the summary adds when the caller has it: estimates, budgets, the report's path. */
export interface SummaryContext {
  /** The analysis the run executed: its per-stream estimates are shown next to the actuals. */
  readonly analysis?: Analysis;
  readonly budgetUsd?: number;
  readonly streamBudgetUsd?: number;
  /** The Markdown report written at the end of the run. */
  readonly reportFile?: string | null;
  /** `--land` follows the summary: it reports the result's landing itself, so no "Take the result" hint. */
  readonly landing?: boolean;
}

/** Dollars with enough digits to compare with what an agent CLI reported (`$0.0123`, `$12.34`). */
export function formatUsd(usd: number): string {
  return `$${usd >= 100 ? usd.toFixed(2) : usd >= 1 ? usd.toFixed(3) : usd.toFixed(4)}`;
}

/** Tokens and cost of a usage: `1200 in / 340 out, $0.0123` (cost `n/a` when nothing priced it). */
export function formatUsage(usage: Usage | null): string {
  if (usage === null) return '-';
  const cache = usage.cacheReadTokens + usage.cacheWriteTokens;
  const tokens = `${String(usage.inputTokens)} in / ${String(usage.outputTokens)} out${cache > 0 ? ` / ${String(cache)} cache` : ''}`;
  return `${tokens}, ${usage.costSource === 'none' ? 'cost n/a' : formatUsd(usage.costUsd)}`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${String(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${String(Math.floor(s / 60))}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

function cost(s: StreamState): string {
  return formatUsage(s.usage);
}

/** The total of the usages reported so far, or null when none was. */
function sumUsage(usages: readonly (Usage | null)[]): Usage | null {
  let total: Usage | null = null;
  for (const u of usages) if (u !== null) total = addUsage(total, u);
  return total;
}

/** Cost lines: per wave and for the run, each next to the analysis's estimate; which budget stopped what. */
function costLines(state: RunState, rows: readonly StreamState[], context: SummaryContext): string[] {
  const lines: string[] = [];
  const analysis = context.analysis;
  const estimate = (ids: readonly string[]) =>
    analysis === undefined
      ? ''
      : ` (estimate ${formatUsd(analysis.streams.filter((s) => ids.includes(s.id)).reduce((a, s) => a + s.estimate.costUsd, 0))})`;
  const total = sumUsage(rows.map((s) => s.usage));
  // Per-wave lines only when some agent reported usage: "none reported" ten times says nothing.
  if (analysis !== undefined && analysis.waves.length > 1 && total !== null) {
    analysis.waves.forEach((ids, i) => {
      const usage = sumUsage(ids.map((id) => state.streams[id]?.usage ?? null));
      lines.push(
        `  wave ${String(i + 1)}: ${usage === null ? 'none reported' : formatUsage(usage)}${estimate(ids)}`,
      );
    });
  }
  lines.unshift(
    `Usage: ${total === null ? 'none reported' : formatUsage(total)}${estimate(rows.map((s) => s.id))}`,
  );
  const stop = state.budgetStop ?? null;
  if (state.status === 'budget-exceeded' && stop !== null) {
    const higher = Math.max(stop.budgetUsd * 2, stop.costUsd * 1.5);
    lines.push(
      `Stopped by the run budget: ${formatUsd(stop.costUsd)} spent of ${formatUsd(stop.budgetUsd)} (--budget-usd); no new agent was started and running ones were stopped. ` +
        `Resume with a higher budget: maestro resume ${state.runId} --budget-usd ${higher.toFixed(2)}`,
    );
  }
  for (const s of rows) {
    if (s.error?.code === 'budget')
      lines.push(
        `Stream ${s.id} was stopped by the per-stream budget${context.streamBudgetUsd === undefined ? '' : ` of ${formatUsd(context.streamBudgetUsd)}`} (--stream-budget-usd).`,
      );
  }
  return lines;
}

/** The run queue's costs of one attempt (or the mean over `attempts`), for a line of text. */
export function queueCostsText(c: QueueCosts, attempts = 1): string {
  const ms = (x: number) => `${(x / attempts).toFixed(0)} ms`;
  return `publish ${ms(c.publishMs)}, enqueue ${ms(c.enqueueMs)}, worker fetch ${ms(c.fetchMs)}, worker push ${ms(c.pushMs)}, result ${ms(c.resultMs)}`;
}

/** Gate runs per gated batch, and what `--speculate` wasted. */
function mergeQueueLines(state: RunState): string[] {
  const lines: string[] = [];
  const batches = state.batches ?? [];
  if (batches.length > 0) {
    const runs = batches.reduce((n, b) => n + b.gateRuns, 0);
    const failing = batches.filter((b) => b.culprits.length > 0);
    lines.push(
      `Gates: ${String(runs)} run${runs === 1 ? '' : 's'} for ${String(batches.length)} batch${batches.length === 1 ? '' : 'es'} (largest ${String(Math.max(...batches.map((b) => b.streamIds.length)))} streams)` +
        (failing.length === 0
          ? ''
          : `; failing batches bisected: ${failing.map((b) => `${String(b.streamIds.length)} streams in ${String(b.gateRuns)} runs, broken by ${b.culprits.join(', ')}`).join('; ')}`),
    );
  }
  const handedBack = Object.values(state.streams).filter((s) => s.conflictRetries > 0);
  if (handedBack.length > 0)
    lines.push(
      `Conflicts handed back to their agents: ${handedBack
        .map(
          (s) =>
            `${s.id} (${s.status}; resolving ${formatUsage(s.resolutionUsage ?? null)} vs first attempt ${formatUsage(s.firstAttemptUsage ?? null)})`,
        )
        .join('; ')}.`,
    );
  const spec = state.speculation;
  if (spec !== undefined)
    lines.push(
      `Speculation wasted ${duration(spec.agentMs)} of agent time and ${formatUsd(spec.costUsd)} (${String(spec.discarded)} attempt${spec.discarded === 1 ? '' : 's'} discarded).`,
    );
  return lines;
}

/** The command that takes the run's result into the user's branch. */
export function takeCommand(state: RunState): string {
  const branch = state.baseBranchRef?.replace(/^refs\/heads\//, '');
  return branch === undefined
    ? `git merge --ff-only ${state.integrationBranch}`
    : `git switch ${branch} && git merge --ff-only ${state.integrationBranch}`;
}

/** Renders the summary as plain text lines. */
export function formatSummary(
  state: RunState,
  order: readonly string[] = Object.keys(state.streams),
  context: SummaryContext = {},
): string {
  const rows = order.map((id) => state.streams[id]).filter((s) => s !== undefined);
  const lines: string[] = [];
  lines.push(`Run ${state.runId}: ${state.status}`);
  const estimates = new Map(context.analysis?.streams.map((s) => [s.id, s.estimate.costUsd]) ?? []);
  const header = [
    'stream',
    'status',
    'time',
    'files',
    'retries',
    'usage',
    ...(estimates.size > 0 ? ['estimate'] : []),
  ];
  const table = rows.map((s) => {
    const estimate = estimates.get(s.id);
    return [
      s.id,
      s.status,
      duration(s.durationMs),
      String(s.changedFiles.length),
      String(s.retries),
      cost(s),
      ...(estimates.size > 0 ? [estimate === undefined ? '-' : formatUsd(estimate)] : []),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  lines.push(`  ${fmt(header)}`);
  for (const [i, r] of table.entries()) {
    lines.push(`  ${fmt(r)}`);
    const s = rows[i];
    if (s?.error) lines.push(`      ${s.error.code}: ${s.error.message.split('\n')[0] ?? ''}`);
    // A failed setup is the project's, not the agent's: its output says what to fix.
    if (s?.error?.code === 'setup' && s.error.output !== undefined)
      for (const l of s.error.output.trimEnd().split('\n').slice(-10)) lines.push(`        ${l}`);
    for (const w of s?.warnings ?? []) lines.push(`      warning: ${w}`);
  }
  const count = (status: string) => rows.filter((s) => s.status === status).length;
  const totalMs = rows.reduce((a, s) => a + s.durationMs, 0);
  const files = new Set(rows.flatMap((s) => (s.status === 'merged' ? s.changedFiles : [])));
  lines.push(
    `Totals: ${String(count('merged'))} merged, ${String(count('failed'))} failed, ${String(count('skipped'))} skipped, ` +
      `${String(rows.length - count('merged') - count('failed') - count('skipped'))} unfinished; ` +
      `agent time ${duration(totalMs)}; ${String(files.size)} files changed` +
      (state.costUsd > 0 ? `; cost ${formatUsd(state.costUsd)}` : ''),
  );
  lines.push(...costLines(state, rows, context));
  lines.push(...mergeQueueLines(state));
  if (state.setups !== undefined && state.setups.runs > 0)
    lines.push(
      `Setup: ran ${String(state.setups.runs)} time${state.setups.runs === 1 ? '' : 's'} in ${duration(state.setups.durationMs)}${state.setups.failed > 0 ? ` (${String(state.setups.failed)} failed)` : ''}; recycled worktrees skipped the rest`,
    );
  if (state.queue !== undefined && state.queue.attempts > 0)
    lines.push(
      `Run queue: ${String(state.queue.attempts)} attempt${state.queue.attempts === 1 ? '' : 's'} on workers; per attempt ${queueCostsText(state.queue, state.queue.attempts)}.`,
    );
  for (const note of state.notes) lines.push(`Note: ${note}`);
  lines.push(`Integration branch: ${state.integrationBranch}`);
  if (context.reportFile != null) lines.push(`Report: ${context.reportFile}`);
  switch (state.status) {
    case 'completed':
      if (count('merged') > 0 && context.landing !== true)
        lines.push(`Take the result: ${takeCommand(state)}`);
      break;
    case 'failed':
      if (count('merged') > 0) lines.push(`Take the result: ${takeCommand(state)}`);
      // `resume` would end a failed run as failed again; `retry` runs the failed streams again.
      lines.push(
        `Fix the cause, then run the failed streams again (merged work is kept): maestro retry ${state.runId}`,
      );
      break;
    case 'interrupted':
    case 'stopped':
    case 'budget-exceeded':
      lines.push(`Resume with: maestro resume ${state.runId}`);
      break;
    case 'running':
      lines.push(`The run is still going; follow it with: maestro status --watch ${state.runId}`);
      break;
    case 'aborted':
      lines.push(`Clean up with: maestro clean ${state.runId}`);
      break;
  }
  return `${lines.join('\n')}\n`;
}
