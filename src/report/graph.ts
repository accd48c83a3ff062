/** Renders the stream dependency graph as SVG, one column per wave, nodes coloured by final status. */
import { esc, px } from './escape.js';
import type { RunReport, StreamReport } from './types.js';

const nodeWidth = 190;
const nodeHeight = 44;
const columnGap = 70;
const rowGap = 14;
const margin = 16;
const headerHeight = 22;

interface Placed {
  readonly stream: StreamReport;
  readonly x: number;
  readonly y: number;
}

/** Columns of streams: the waves in order, then streams with no wave. */
function columns(report: RunReport): StreamReport[][] {
  const byWave = new Map<number, StreamReport[]>();
  const loose: StreamReport[] = [];
  for (const stream of report.streams) {
    if (stream.wave === null) {
      loose.push(stream);
      continue;
    }
    const column = byWave.get(stream.wave) ?? [];
    column.push(stream);
    byWave.set(stream.wave, column);
  }
  const ordered = [...byWave.entries()].sort(([a], [b]) => a - b).map(([, column]) => column);
  return loose.length > 0 ? [...ordered, loose] : ordered;
}

function node(placed: Placed, critical: boolean): string {
  const { stream, x, y } = placed;
  const title = stream.title.length > 26 ? `${stream.title.slice(0, 25)}…` : stream.title;
  return [
    `<g class="node status-${esc(stream.status)}${critical ? ' critical' : ''}" data-stream="${esc(stream.id)}">`,
    `<title>${esc(`${stream.id} · ${stream.title} · ${stream.role} · ${stream.status}`)}</title>`,
    `<rect x="${px(x)}" y="${px(y)}" width="${nodeWidth}" height="${nodeHeight}" rx="6"/>`,
    `<text class="node-id" x="${px(x + 8)}" y="${px(y + 17)}">${esc(`${stream.id} · ${stream.role}`)}</text>`,
    `<text class="node-title" x="${px(x + 8)}" y="${px(y + 34)}">${esc(title)}</text>`,
    '</g>',
  ].join('');
}

function edgePath(from: Placed, to: Placed): string {
  const x1 = from.x + nodeWidth;
  const y1 = from.y + nodeHeight / 2;
  const x2 = to.x;
  const y2 = to.y + nodeHeight / 2;
  // Edges inside one column (rare: waves may split a long level) curve out to the right.
  const bend = x2 > x1 ? (x2 - x1) / 2 : columnGap;
  return `M${px(x1)},${px(y1)} C${px(x1 + bend)},${px(y1)} ${px(x2 - bend)},${px(y2)} ${px(x2)},${px(y2)}`;
}

/** Width in pixels of the graph `renderGraph` draws: one column per wave. */
export function graphWidth(report: RunReport): number {
  return margin * 2 + Math.max(1, columns(report).length) * (nodeWidth + columnGap) - columnGap;
}

/** The dependency graph as an inline `<svg>` element, layered by wave. */
export function renderGraph(report: RunReport): string {
  const cols = columns(report);
  const placed = new Map<string, Placed>();
  cols.forEach((column, c) => {
    column.forEach((stream, r) => {
      placed.set(stream.id, {
        stream,
        x: margin + c * (nodeWidth + columnGap),
        y: margin + headerHeight + r * (nodeHeight + rowGap),
      });
    });
  });
  const tallest = Math.max(0, ...cols.map((column) => column.length));
  const width = graphWidth(report);
  const height = margin * 2 + headerHeight + tallest * (nodeHeight + rowGap);
  const critical = new Set(report.criticalPath);
  const headers = cols.map((column, c) => {
    const wave = column[0]?.wave ?? null;
    const label = wave === null ? 'no wave' : `wave ${wave}`;
    return `<text class="wave-label" x="${px(margin + c * (nodeWidth + columnGap))}" y="${margin + 12}">${label}</text>`;
  });
  const edges = report.edges.flatMap((edge) => {
    const from = placed.get(edge.from);
    const to = placed.get(edge.to);
    if (from === undefined || to === undefined) return [];
    const cls = edge.implicit ? 'edge implicit' : 'edge';
    return [
      `<path class="${cls}" d="${edgePath(from, to)}" marker-end="url(#arrow)"><title>${esc(`${edge.from} → ${edge.to}${edge.implicit ? ' (shared file)' : ''}`)}</title></path>`,
    ];
  });
  return [
    `<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Stream dependency graph">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head"/></marker></defs>',
    ...headers,
    ...edges,
    ...[...placed.values()].map((p) => node(p, critical.has(p.stream.id))),
    '</svg>',
  ].join('\n');
}
