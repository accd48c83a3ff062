/** Renders a `RunReport` as Markdown (written to the run directory after every run). */
import {
  formatClock,
  formatCounts,
  formatCoverage,
  formatDuration,
  formatTokens,
  formatUsage,
  formatUsd,
  joinLink,
} from './format.js';
import { queueCostsText } from '../run/summary.js';
import { failureExcerpt } from '../run/validate.js';
import type { ConflictHandBackReport, RunReport, StreamReport } from './types.js';

type RunReportUsage = NonNullable<ConflictHandBackReport['resolutionUsage']>;

/** Options shared by the renderers. */
export interface RenderOptions {
  /** Path from the output file's folder to the run directory, for links to completion reports. */
  readonly linkPrefix?: string;
}

/** Escapes text for a Markdown table cell (pipes and line breaks would break the row). */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

function link(stream: StreamReport, prefix: string): string {
  if (stream.completionReport === null) return '–';
  const target = joinLink(prefix, stream.completionReport).replace(/ /g, '%20').replace(/\)/g, '%29');
  return `[${stream.completionReport.split('/').at(-1) ?? stream.completionReport}](${target})`;
}

function fixesSummary(stream: StreamReport): string {
  if (stream.criticalFixes.length === 0) return '–';
  return stream.criticalFixes.map((f) => `${f.id}: ${formatCoverage(f.coverage)}`).join(', ');
}

function validationSummary(stream: StreamReport): string {
  if (stream.validations.length === 0) return '–';
  const passed = stream.validations.filter((v) => v.passed).length;
  const failed = stream.validations.length - passed;
  return failed === 0 ? `${passed} passed` : `${passed} passed, ${failed} failed`;
}

function streamDetails(stream: StreamReport): string[] {
  const lines: string[] = [];
  if (stream.error !== null) lines.push(`- **${stream.error.code}**: ${stream.error.message}`);
  for (const violation of stream.ownershipViolations) {
    const verb = violation.mode === 'fail' ? 'failed the stream' : 'warning';
    lines.push(`- Out-of-scope changes (${verb}): ${violation.paths.map((p) => `\`${p}\``).join(', ')}`);
  }
  for (const paths of stream.mergeConflicts) {
    lines.push(`- Merge conflict in ${paths.map((p) => `\`${p}\``).join(', ')}`);
  }
  for (const reason of stream.retryReasons) lines.push(`- Retried: ${reason}`);
  for (const fix of stream.criticalFixes) {
    lines.push(`- Critical fix ${fix.id} (${formatCoverage(fix.coverage)}): ${fix.text}`);
  }
  for (const v of stream.validations.filter((x) => !x.passed)) {
    const exit = v.exitCode === null ? 'no exit code' : `exit ${v.exitCode}`;
    lines.push(`- Validation failed: \`${v.commands.join(' && ')}\` (${exit})`);
    if (v.output.trim() !== '') {
      const fence = v.output.includes('```') ? '~~~~' : '```';
      lines.push(
        '',
        `  ${fence}`,
        ...failureExcerpt(v.output)
          .split('\n')
          .map((l) => `  ${l}`),
        `  ${fence}`,
      );
    }
  }
  if (lines.length === 0) return [];
  return [`### ${stream.id} · ${stream.title}`, '', ...lines, ''];
}

/** Renders the report as a Markdown document. */
export function renderMarkdown(report: RunReport, options: RenderOptions = {}): string {
  const prefix = options.linkPrefix ?? '';
  const { totals } = report;
  const out: string[] = [
    `# Maestro run ${report.runId}: ${report.planTitle}`,
    '',
    `- Status: **${report.status}** (${formatCounts(totals.counts)})`,
    `- Plan: \`${report.planSource}\``,
    `- Integration branch: \`${report.integrationBranch}\` (from \`${report.baseRef}\`)`,
    `- Started ${report.startedAt ?? '–'}, ended ${report.endedAt ?? '–'} · makespan ${formatDuration(totals.makespanMs)}`,
    `- Agent time ${formatDuration(totals.agentMs)}` +
      (totals.averageParallelism === null
        ? ''
        : ` (average parallelism ${totals.averageParallelism.toFixed(1)})`),
    `- Tokens ${formatUsage(totals.usage)} · cost ${formatUsd(totals.usage.costUsd)} · retries ${totals.retries}`,
    `- Critical fixes addressed: ${totals.criticalFixes.addressed}/${totals.criticalFixes.total}` +
      ` · ownership violations: ${totals.ownershipViolations}`,
    '',
  ];
  if (report.estimate !== null) {
    const e = report.estimate;
    out.push(
      '## Estimate vs actual',
      '',
      ...table(
        ['', 'Estimated', 'Actual'],
        [
          [
            'Wall time',
            `${e.estimatedMinutes.dynamic.toFixed(0)} min (dynamic) · ${e.estimatedMinutes.waves.toFixed(0)} min (waves) · ${e.estimatedMinutes.sequential.toFixed(0)} min (sequential)`,
            e.actualMinutes === null ? '–' : `${e.actualMinutes.toFixed(1)} min`,
          ],
          ['Cost', formatUsd(e.estimatedCostUsd), formatUsd(e.actualCostUsd)],
          ['Input tokens', formatTokens(e.estimatedTokens.input), formatTokens(e.actualTokens.input)],
          ['Output tokens', formatTokens(e.estimatedTokens.output), formatTokens(e.actualTokens.output)],
        ],
      ),
      '',
      `Estimate method: ${e.method} (model ${e.model}).`,
      '',
    );
  }
  out.push(
    '## Streams',
    '',
    ...table(
      [
        'Stream',
        'Title',
        'Role',
        'Wave',
        'Status',
        'Files (owned / changed)',
        'Violations',
        'Critical fixes',
        'Validation',
        'Retries',
        'Started',
        'Duration',
        'Tokens',
        'Cost',
        'Report',
      ],
      report.streams.map((s) => [
        s.id,
        s.title,
        s.role,
        s.wave === null ? '–' : String(s.wave),
        s.status,
        `${s.ownedFiles.length} / ${s.changedFiles.length}`,
        String(s.ownershipViolations.reduce((n, v) => n + v.paths.length, 0)),
        fixesSummary(s),
        validationSummary(s),
        String(s.retries),
        formatClock(s.timing.startedAt),
        formatDuration(s.wallMs),
        formatUsage(s.usage),
        formatUsd(s.usage.costUsd),
        link(s, prefix),
      ]),
    ),
    '',
  );
  const details = report.streams.flatMap(streamDetails);
  if (details.length > 0) out.push('## Details', '', ...details);
  if (report.waves.length > 0) {
    out.push(
      '## Waves',
      '',
      ...table(
        ['Wave', 'Streams', 'Outcome', 'Wall', 'Agent time', 'Estimated', 'Tokens', 'Cost', 'Estimated cost'],
        report.waves.map((w) => [
          String(w.wave),
          w.streamIds.join(', '),
          formatCounts(w.counts),
          formatDuration(w.wallMs),
          formatDuration(w.agentMs),
          w.estimatedMinutes === null ? '–' : `${w.estimatedMinutes.toFixed(0)} min`,
          formatUsage(w.usage),
          formatUsd(w.usage.costUsd),
          formatUsd(w.estimatedCostUsd),
        ]),
      ),
      '',
    );
  }
  const mq = report.mergeQueue;
  if (mq !== undefined) {
    out.push(
      '## Merge queue',
      '',
      `${String(mq.batches.length)} gated batch${mq.batches.length === 1 ? '' : 'es'}, ${String(mq.gateRuns)} gate run${mq.gateRuns === 1 ? '' : 's'} in all.`,
      '',
    );
    if (mq.batches.length > 0)
      out.push(
        ...table(
          ['batch', 'streams', 'gate runs', 'landed', 'broke the gate'],
          mq.batches.map((b, i) => [
            String(i + 1),
            String(b.streamIds.length),
            String(b.gateRuns),
            String(b.landed.length),
            b.culprits.length === 0 ? '-' : b.culprits.join(', '),
          ]),
        ),
        '',
      );
    if (mq.speculation !== null)
      out.push(
        `Speculation (--speculate) discarded ${String(mq.speculation.discarded)} attempt${mq.speculation.discarded === 1 ? '' : 's'}: ${(mq.speculation.agentMs / 1000).toFixed(1)} s of agent time, ${formatUsd(mq.speculation.costUsd)}.`,
        '',
      );
    if (mq.handBacks !== undefined && mq.handBacks.length > 0) {
      const spent = (u: RunReportUsage | null): string =>
        u === null ? '-' : `${formatUsage(u)}, ${formatUsd(u.costUsd)}`;
      out.push(
        'Merge conflicts handed back to the agent that made them (resolved in its worktree instead of re-running the stream):',
        '',
        ...table(
          ['stream', 'conflicts', 'resolving spent', 'first full attempt spent', 'outcome'],
          mq.handBacks.map((h) => [
            h.streamId,
            String(h.handBacks),
            spent(h.resolutionUsage),
            spent(h.firstAttemptUsage),
            h.status,
          ]),
        ),
        '',
      );
    }
  }
  const rq = report.runQueue;
  if (rq !== undefined && rq.attempts > 0)
    out.push(
      '## Run queue',
      '',
      `${String(rq.attempts)} attempt${rq.attempts === 1 ? '' : 's'} ran on workers. The queue's cost per attempt: ${queueCostsText(rq, rq.attempts)}.`,
      '',
    );
  if (report.notes.length > 0) out.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
