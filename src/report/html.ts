/**
 * Renders a `RunReport` as one self-contained HTML file: inline CSS and SVG, no script, no network
 * (a Content-Security-Policy forbids any fetch, so the file opens the same offline or attached to a ticket).
 */
import { esc } from './escape.js';
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
import { ganttWidth, renderGantt } from './gantt.js';
import { graphWidth, renderGraph } from './graph.js';
import type { RenderOptions } from './markdown.js';
import { failureExcerpt } from '../run/validate.js';
import type { RunReport, StreamReport } from './types.js';

const css = `
:root { --waiting:#d7dbe0; --running:#3b82f6; --validating:#f59e0b; --merged:#16a34a; --failed:#dc2626; --skipped:#9ca3af; --ink:#1f2937; --muted:#6b7280; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 24px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; min-width: 140px; }
.card b { display: block; font-size: 18px; } .card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f9fafb; } td.num { text-align: right; font-variant-numeric: tabular-nums; } td.num, td.nowrap { white-space: nowrap; }
.scroll { overflow-x: auto; }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; color: #fff; background: var(--muted); }
.pill.merged { background: var(--merged); } .pill.failed { background: var(--failed); } .pill.skipped { background: var(--skipped); }
.pill.running, .pill.committed { background: var(--running); } .pill.interrupted { background: var(--validating); }
.bad { color: var(--failed); font-weight: 600; } .ok { color: var(--merged); }
pre { background: #f3f4f6; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 240px; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin: 4px 0 8px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -2px; margin-right: 4px; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.gantt .row { fill: transparent; } .gantt .bar:nth-child(even) .row { fill: #f9fafb; }
.gantt .tick { stroke: #e5e7eb; } .gantt .tick-label { fill: var(--muted); font-size: 11px; }
.seg-waiting { fill: var(--waiting); } .seg-running { fill: var(--running); } .seg-validating { fill: var(--validating); }
.seg-merged { fill: var(--merged); } .seg-failed { fill: var(--failed); } .seg-skipped { fill: var(--skipped); }
.graph .node rect { fill: #f9fafb; stroke: var(--muted); stroke-width: 1.5; }
.graph .node.status-merged rect { fill: #dcfce7; stroke: var(--merged); } .graph .node.status-failed rect { fill: #fee2e2; stroke: var(--failed); }
.graph .node.status-skipped rect { fill: #f3f4f6; stroke: var(--skipped); stroke-dasharray: 4 3; }
.graph .node.critical rect { stroke-width: 3; } .graph .node-id { font-weight: 600; } .graph .wave-label { fill: var(--muted); }
.graph .edge { fill: none; stroke: #9ca3af; stroke-width: 1.5; } .graph .edge.implicit { stroke-dasharray: 5 4; }
.graph .arrow-head { fill: #9ca3af; }
`;

function td(text: string, className = ''): string {
  return className === '' ? `<td>${esc(text)}</td>` : `<td class="${className}">${esc(text)}</td>`;
}

function table(header: readonly string[], rows: readonly string[]): string {
  return `<div class="scroll"><table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function card(value: string, label: string): string {
  return `<div class="card"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
}

function streamRow(s: StreamReport, prefix: string): string {
  const violations = s.ownershipViolations.reduce((n, v) => n + v.paths.length, 0);
  const fixes =
    s.criticalFixes.length === 0
      ? '–'
      : s.criticalFixes
          .map((f) => {
            const cls = f.coverage === 'mentioned' || f.coverage === 'covered' ? 'ok' : 'bad';
            return `<span class="${cls}" title="${esc(f.text)}">${esc(`${f.id}: ${formatCoverage(f.coverage)}`)}</span>`;
          })
          .join('<br>');
  const failedGates = s.validations.filter((v) => !v.passed).length;
  const gates =
    s.validations.length === 0
      ? '–'
      : `${s.validations.length - failedGates} passed${failedGates > 0 ? `, ${failedGates} failed` : ''}`;
  const report =
    s.completionReport === null
      ? '–'
      : `<a href="${esc(encodeURI(joinLink(prefix, s.completionReport)))}">${esc(s.completionReport.split('/').at(-1) ?? '')}</a>`;
  return [
    '<tr>',
    td(s.id),
    td(s.title),
    td(s.role),
    td(s.wave === null ? '–' : String(s.wave), 'num'),
    `<td><span class="pill ${esc(s.status)}">${esc(s.status)}</span></td>`,
    td(`${s.ownedFiles.length} / ${s.changedFiles.length}`, 'num'),
    td(String(violations), violations > 0 ? 'num bad' : 'num'),
    `<td>${fixes}</td>`,
    td(gates, failedGates > 0 ? 'bad' : ''),
    td(String(s.retries), 'num'),
    td(formatClock(s.timing.startedAt)),
    td(formatDuration(s.wallMs), 'num'),
    td(formatUsage(s.usage), 'nowrap'),
    td(formatUsd(s.usage.costUsd), 'num'),
    `<td>${report}</td>`,
    '</tr>',
  ].join('');
}

function details(s: StreamReport): string {
  const items: string[] = [];
  if (s.error !== null)
    items.push(`<li><b class="bad">${esc(s.error.code)}</b>: ${esc(s.error.message)}</li>`);
  for (const v of s.ownershipViolations) {
    items.push(
      `<li>Out-of-scope changes (${v.mode}): <code>${v.paths.map(esc).join('</code>, <code>')}</code></li>`,
    );
  }
  for (const paths of s.mergeConflicts) {
    items.push(`<li>Merge conflict in <code>${paths.map(esc).join('</code>, <code>')}</code></li>`);
  }
  for (const reason of s.retryReasons) items.push(`<li>Retried: ${esc(reason)}</li>`);
  for (const v of s.validations.filter((x) => !x.passed)) {
    items.push(
      `<li>Validation failed: <code>${esc(v.commands.join(' && '))}</code> (exit ${esc(String(v.exitCode ?? '–'))})` +
        (v.output.trim() === '' ? '' : `<pre>${esc(failureExcerpt(v.output, 30))}</pre>`) +
        '</li>',
    );
  }
  if (s.changedFiles.length > 0) {
    items.push(`<li>Changed: <code>${s.changedFiles.map(esc).join('</code>, <code>')}</code></li>`);
  }
  if (items.length === 0) return '';
  return `<h3>${esc(`${s.id} · ${s.title}`)}</h3><ul>${items.join('')}</ul>`;
}

function estimateSection(report: RunReport): string {
  const e = report.estimate;
  if (e === null) return '';
  const rows = [
    [
      'Wall time',
      `${e.estimatedMinutes.dynamic.toFixed(0)} min (dynamic) · ${e.estimatedMinutes.waves.toFixed(0)} min (waves) · ${e.estimatedMinutes.sequential.toFixed(0)} min (sequential)`,
      e.actualMinutes === null ? '–' : `${e.actualMinutes.toFixed(1)} min`,
    ],
    ['Cost', formatUsd(e.estimatedCostUsd), formatUsd(e.actualCostUsd)],
    ['Input tokens', formatTokens(e.estimatedTokens.input), formatTokens(e.actualTokens.input)],
    ['Output tokens', formatTokens(e.estimatedTokens.output), formatTokens(e.actualTokens.output)],
  ].map((r) => `<tr>${r.map((c) => td(c)).join('')}</tr>`);
  return `<h2>Estimate vs actual</h2>${table(['', 'Estimated', 'Actual'], rows)}<p class="sub">${esc(`${e.method} (model ${e.model})`)}</p>`;
}

function legend(): string {
  const kinds = ['waiting', 'running', 'validating', 'merged', 'failed', 'skipped'];
  return `<div class="legend">${kinds.map((k) => `<span><i style="background:var(--${k})"></i>${k}</span>`).join('')}</div>`;
}

/** Renders the report as a self-contained HTML page. */
export function renderHtml(report: RunReport, options: RenderOptions = {}): string {
  const prefix = options.linkPrefix ?? '';
  const t = report.totals;
  const waveRows = report.waves.map(
    (w) =>
      `<tr>${[
        td(String(w.wave), 'num'),
        td(w.streamIds.join(', ')),
        td(formatCounts(w.counts)),
        td(formatDuration(w.wallMs), 'num'),
        td(formatDuration(w.agentMs), 'num'),
        td(w.estimatedMinutes === null ? '–' : `${w.estimatedMinutes.toFixed(0)} min`, 'num'),
        td(formatUsage(w.usage)),
        td(formatUsd(w.usage.costUsd), 'num'),
        td(formatUsd(w.estimatedCostUsd), 'num'),
      ].join('')}</tr>`,
  );
  const body = [
    `<h1>${esc(`Maestro run ${report.runId}`)}</h1>`,
    `<p class="sub">${esc(`${report.planTitle} · ${report.planSource} · branch ${report.integrationBranch} from ${report.baseRef}`)}</p>`,
    '<div class="cards">',
    card(report.status, formatCounts(t.counts)),
    card(formatDuration(t.makespanMs), 'makespan'),
    card(
      formatDuration(t.agentMs),
      t.averageParallelism === null
        ? 'agent time'
        : `agent time · ×${t.averageParallelism.toFixed(1)} parallel`,
    ),
    card(formatUsd(t.usage.costUsd), formatUsage(t.usage)),
    card(String(t.retries), 'retries'),
    card(`${t.criticalFixes.addressed}/${t.criticalFixes.total}`, 'critical fixes addressed'),
    card(String(t.ownershipViolations), 'ownership violations'),
    '</div>',
    estimateSection(report),
    '<h2>Timeline</h2>',
    legend(),
    `<div class="scroll">${renderGantt(report)}</div>`,
    '<h2>Dependency graph</h2>',
    `<p class="sub">Columns are waves; dashed edges were added because streams share a file; thick borders mark the critical path.${
      // Wider than the timeline (the page's design width): say that the box scrolls, where browsers hide scroll bars.
      graphWidth(report) > ganttWidth ? ` Scroll sideways for the later waves.` : ''
    }</p>`,
    `<div class="scroll">${renderGraph(report)}</div>`,
    '<h2>Streams</h2>',
    table(
      [
        'Stream',
        'Title',
        'Role',
        'Wave',
        'Status',
        'Owned / changed',
        'Violations',
        'Critical fixes',
        'Validation',
        'Retries',
        'Started (UTC)',
        'Duration',
        'Tokens',
        'Cost',
        'Report',
      ],
      report.streams.map((s) => streamRow(s, prefix)),
    ),
    ...report.streams.map(details),
    report.waves.length === 0
      ? ''
      : `<h2>Waves</h2>${table(['Wave', 'Streams', 'Outcome', 'Wall', 'Agent time', 'Estimated', 'Tokens', 'Cost', 'Estimated cost'], waveRows)}`,
    report.notes.length === 0
      ? ''
      : `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`,
  ];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(`Maestro report · ${report.runId}`)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    '<body>',
    ...body.filter((part) => part !== ''),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
