/** Renders the run's timeline as an SVG Gantt chart: one bar per stream, one rect per segment. */
import { esc, px } from './escape.js';
import { formatDuration } from './format.js';
import type { RunReport, StreamReport, TimelineSegment } from './types.js';

/** The timeline's width in pixels: the report's design width. */
export const ganttWidth = 1100;
const width = ganttWidth;
const labelWidth = 260;
const rightPad = 24;
const rowHeight = 26;
const barHeight = 16;
const axisHeight = 28;
/** End markers (merged/failed/skipped) have no duration; draw them this wide so they show. */
const markerWidth = 6;

interface Scale {
  readonly t0: number;
  readonly span: number;
}

function timeRange(report: RunReport): Scale {
  const times = report.streams.flatMap((s) =>
    s.segments.flatMap((seg) => [Date.parse(seg.start), Date.parse(seg.end)]),
  );
  if (report.startedAt !== null) times.push(Date.parse(report.startedAt));
  if (report.endedAt !== null) times.push(Date.parse(report.endedAt));
  const finite = times.filter((t) => Number.isFinite(t));
  if (finite.length === 0) return { t0: 0, span: 1 };
  const t0 = Math.min(...finite);
  return { t0, span: Math.max(1, Math.max(...finite) - t0) };
}

function x(scale: Scale, iso: string): number {
  const plot = width - labelWidth - rightPad;
  return labelWidth + ((Date.parse(iso) - scale.t0) / scale.span) * plot;
}

function segmentRect(scale: Scale, seg: TimelineSegment, y: number): string {
  const start = x(scale, seg.start);
  const isMarker = seg.start === seg.end;
  const left = isMarker ? Math.min(start, width - rightPad - markerWidth) : start;
  const w = isMarker ? markerWidth : Math.max(1, x(scale, seg.end) - start);
  const tip = isMarker
    ? `${seg.kind} at ${seg.end}`
    : `${seg.kind}${seg.attempt > 1 ? ` (attempt ${seg.attempt})` : ''}: ${formatDuration(Date.parse(seg.end) - Date.parse(seg.start))}`;
  return (
    `<rect class="seg seg-${seg.kind}" x="${px(left)}" y="${px(y)}" width="${px(w)}" height="${barHeight}" rx="2">` +
    `<title>${esc(tip)}</title></rect>`
  );
}

function bar(scale: Scale, stream: StreamReport, row: number): string {
  const top = axisHeight + row * rowHeight;
  const y = top + (rowHeight - barHeight) / 2;
  const label = `${stream.id} · ${stream.title}`;
  const short = label.length > 36 ? `${label.slice(0, 35)}…` : label;
  return [
    `<g class="bar status-${esc(stream.status)}" data-stream="${esc(stream.id)}">`,
    `<rect class="row" x="0" y="${px(top)}" width="${width}" height="${rowHeight}"/>`,
    `<text class="label" x="8" y="${px(top + rowHeight / 2 + 4)}">${esc(short)}<title>${esc(label)}</title></text>`,
    ...stream.segments.map((seg) => segmentRect(scale, seg, y)),
    '</g>',
  ].join('');
}

/** Tick steps a reader counts in: sub-second steps for short runs, then seconds, minutes and hours. */
const tickSteps = [
  100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];
/** At most this many intervals on the axis. */
const maxTicks = 6;

/**
 * The axis ticks for a run of `spanMs`: multiples of the smallest round step that needs at most six
 * intervals, so labels are distinct and evenly spaced ("+0s +1s +2s", never "+0s +0s +1s +1s").
 */
export function axisTicks(spanMs: number): { readonly offsetMs: number; readonly label: string }[] {
  const step =
    tickSteps.find((candidate) => spanMs / candidate <= maxTicks) ??
    Math.ceil(spanMs / maxTicks / 86_400_000) * 86_400_000;
  const ticks: { offsetMs: number; label: string }[] = [];
  for (let offsetMs = 0; offsetMs <= spanMs; offsetMs += step) {
    const label = step < 1000 ? `${(offsetMs / 1000).toFixed(1)}s` : formatDuration(offsetMs);
    ticks.push({ offsetMs, label: `+${label}` });
  }
  return ticks;
}

function axis(scale: Scale, height: number): string {
  const plot = width - labelWidth - rightPad;
  const parts: string[] = [];
  for (const tick of axisTicks(scale.span)) {
    const tx = labelWidth + (tick.offsetMs / scale.span) * plot;
    // A label at the right edge would be cut off if centred on its tick.
    const anchor = tx > width - rightPad - 20 ? 'end' : 'middle';
    parts.push(
      `<line class="tick" x1="${px(tx)}" y1="${axisHeight - 4}" x2="${px(tx)}" y2="${px(height)}"/>`,
      `<text class="tick-label" x="${px(tx)}" y="${axisHeight - 10}" text-anchor="${anchor}">${esc(tick.label)}</text>`,
    );
  }
  return parts.join('');
}

/** The Gantt timeline as an inline `<svg>` element. */
export function renderGantt(report: RunReport): string {
  const scale = timeRange(report);
  const height = axisHeight + report.streams.length * rowHeight + 4;
  return [
    `<svg class="gantt" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Timeline of the run's streams">`,
    axis(scale, height),
    ...report.streams.map((stream, row) => bar(scale, stream, row)),
    '</svg>',
  ].join('\n');
}
