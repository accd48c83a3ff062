/** The end-of-run summary: per stream status, duration, files, retries, cost; totals; how to take the result. */
import type { RunState, StreamState } from './types.js';

function duration(ms: number): string {
  if (ms < 1000) return `${String(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${String(Math.floor(s / 60))}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

function cost(s: StreamState): string {
  if (s.usage === null) return '-';
  const tokens = s.usage.inputTokens + s.usage.outputTokens;
  const usd = s.usage.costSource === 'none' ? '' : ` $${s.usage.costUsd.toFixed(3)}`;
  return `${String(tokens)} tok${usd}`;
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
): string {
  const rows = order.map((id) => state.streams[id]).filter((s) => s !== undefined);
  const lines: string[] = [];
  lines.push(`Run ${state.runId}: ${state.status}`);
  const header = ['stream', 'status', 'time', 'files', 'retries', 'usage'];
  const table = rows.map((s) => [
    s.id,
    s.status,
    duration(s.durationMs),
    String(s.changedFiles.length),
    String(s.retries),
    cost(s),
  ]);
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
    for (const w of s?.warnings ?? []) lines.push(`      warning: ${w}`);
  }
  const count = (status: string) => rows.filter((s) => s.status === status).length;
  const totalMs = rows.reduce((a, s) => a + s.durationMs, 0);
  const files = new Set(rows.flatMap((s) => (s.status === 'merged' ? s.changedFiles : [])));
  lines.push(
    `Totals: ${String(count('merged'))} merged, ${String(count('failed'))} failed, ${String(count('skipped'))} skipped, ` +
      `${String(rows.length - count('merged') - count('failed') - count('skipped'))} unfinished; ` +
      `agent time ${duration(totalMs)}; ${String(files.size)} files changed` +
      (state.costUsd > 0 ? `; cost $${state.costUsd.toFixed(3)}` : ''),
  );
  for (const note of state.notes) lines.push(`Note: ${note}`);
  lines.push(`Integration branch: ${state.integrationBranch}`);
  switch (state.status) {
    case 'completed':
    case 'failed':
      if (count('merged') > 0) lines.push(`Take the result: ${takeCommand(state)}`);
      break;
    case 'interrupted':
    case 'stopped':
    case 'budget-exceeded':
    case 'running':
      lines.push(`Resume with: maestro resume ${state.runId}`);
      break;
    case 'aborted':
      lines.push(`Clean up with: maestro clean ${state.runId}`);
      break;
  }
  return `${lines.join('\n')}\n`;
}
