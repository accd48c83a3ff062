/**
 * The live terminal view of a run: a header with progress counts, one line per active stream (role,
 * elapsed time, current activity, tokens and cost so far), and finished streams printed once above.
 * It observes run events (from the engine's bus, or from a journal being tailed by `status --watch`);
 * the engine never calls it. The model and the frame layout are pure functions; `LiveView` wires them
 * to a `WindowedRenderer`.
 */
import stringWidth from 'fast-string-width';
import type { Usage } from '../agents/types.js';
import type { RunEvent, RunStatus, StreamStatus } from '../run/types.js';
import { unreachable } from '../run/types.js';
import { formatEventLine } from '../run/reporters.js';
import { WindowedRenderer, type InterceptableStream, type TerminalStream } from './renderer.js';

/** What the view knows about a stream before the run says anything (from the analysis). */
export interface LiveStreamInfo {
  readonly id: string;
  readonly title: string;
  readonly role: string;
}

/** One stream as the view sees it. */
export interface LiveStream extends LiveStreamInfo {
  status: StreamStatus;
  /** Start of the current attempt (ms since the epoch), while it runs. */
  attemptStartedAt: number | null;
  /** What it is doing now, in words (`editing src/a.ts`, `$ npm test`, its last output line). */
  activity: string | null;
  /** Usage of finished attempts. */
  doneTokens: number;
  doneCostUsd: number;
  /** Usage so far of the running attempt. */
  liveTokens: number;
  liveCostUsd: number;
  changedFiles: number;
  /** The stream's total time so far, summed over finished attempts. */
  durationMs: number;
}

/** Everything the view draws, folded from run events. */
export interface LiveModel {
  runId: string | null;
  startedAt: number | null;
  readonly order: readonly string[];
  readonly streams: Map<string, LiveStream>;
  /** Waves in the plan; the current one once a `wave-started` event says the run goes by waves. */
  readonly waveCount: number;
  wave: number | null;
  finished: RunStatus | null;
}

/** A fresh model for a plan's streams. */
export function createLiveModel(streams: readonly LiveStreamInfo[], waveCount = 0): LiveModel {
  return {
    runId: null,
    startedAt: null,
    order: streams.map((s) => s.id),
    streams: new Map(streams.map((s) => [s.id, newStream(s)])),
    waveCount,
    wave: null,
    finished: null,
  };
}

function newStream(info: LiveStreamInfo): LiveStream {
  return {
    id: info.id,
    title: info.title,
    role: info.role,
    status: 'pending',
    attemptStartedAt: null,
    activity: null,
    doneTokens: 0,
    doneCostUsd: 0,
    liveTokens: 0,
    liveCostUsd: 0,
    changedFiles: 0,
    durationMs: 0,
  };
}

const tokensOf = (u: Usage) => u.inputTokens + u.outputTokens;

/** A permanent line to print above the window: its text and how it looks. */
export interface LogLine {
  readonly text: string;
  readonly tone: Tone;
}

type Tone = 'ok' | 'bad' | 'warn' | 'dim' | 'plain';

/** Streams merged and not yet through a gate. */
/** The streams a shared gate validates: those it names, else (older journals) every one awaiting a gate. */
function awaitingGate(model: LiveModel, ids?: readonly string[]): LiveStream[] {
  if (ids !== undefined) return ids.map((id) => streamOf(model, id));
  return [...model.streams.values()].filter((s) => s.status === 'merged' && s.activity !== null);
}

function streamOf(model: LiveModel, id: string): LiveStream {
  let s = model.streams.get(id);
  if (s === undefined) {
    // A stream the analysis did not list (a journal from another version): show it anyway.
    s = newStream({ id, title: id, role: '' });
    model.streams.set(id, s);
    (model.order as string[]).push(id);
  }
  return s;
}

/** Applies one event to the model (mutating it); returns the lines to print once above the window. */
export function applyLiveEvent(model: LiveModel, event: RunEvent): LogLine[] {
  const line = (tone: Tone): LogLine[] => {
    const text = formatEventLine(event);
    return text === null ? [] : [{ text, tone }];
  };
  const time = Date.parse(event.time);
  switch (event.type) {
    case 'run-started':
      model.runId = event.runId;
      model.startedAt = time;
      for (const id of event.streamIds) streamOf(model, id);
      return line('dim');
    case 'run-resumed':
      model.runId = event.runId;
      model.startedAt ??= time;
      model.finished = null;
      return line('dim');
    case 'wave-started':
      model.wave = event.wave;
      return line('dim');
    case 'stream-started': {
      const s = streamOf(model, event.streamId);
      s.status = 'running';
      s.attemptStartedAt = time;
      s.activity = null;
      s.liveTokens = 0;
      s.liveCostUsd = 0;
      return [];
    }
    case 'agent-output': {
      const text = event.text.trim();
      if (text !== '') streamOf(model, event.streamId).activity = text;
      return [];
    }
    case 'agent-activity':
      streamOf(model, event.streamId).activity = activityText(event.kind, event.text);
      return [];
    case 'agent-live-usage': {
      const s = streamOf(model, event.streamId);
      s.liveTokens = tokensOf(event.usage);
      s.liveCostUsd = event.usage.costUsd;
      return [];
    }
    case 'agent-usage': {
      const s = streamOf(model, event.streamId);
      s.doneTokens += tokensOf(event.usage);
      s.doneCostUsd += event.usage.costUsd;
      s.liveTokens = 0;
      s.liveCostUsd = 0;
      return [];
    }
    case 'agent-finished': {
      const s = streamOf(model, event.streamId);
      s.durationMs += event.durationMs;
      s.activity = event.ok ? 'agent finished; committing' : null;
      return event.ok ? [] : line('bad');
    }
    case 'stream-committed': {
      const s = streamOf(model, event.streamId);
      s.status = 'committed';
      s.changedFiles = event.changedFiles.length;
      s.activity = 'waiting to merge';
      return [];
    }
    case 'stream-merged': {
      const s = streamOf(model, event.streamId);
      s.status = 'merged';
      s.activity = 'merged; validating';
      return [];
    }
    case 'validation-started': {
      const text = `validating: ${event.commands.join(' && ')}`;
      if (event.streamId !== null) streamOf(model, event.streamId).activity = text;
      // A wave's gate (`waves` mode) validates every stream merged since the last one.
      else for (const s of awaitingGate(model, event.streamIds)) s.activity = text;
      return [];
    }
    case 'validation-passed': {
      if (event.streamId === null) {
        return awaitingGate(model, event.streamIds).map((s) => {
          s.activity = null;
          s.attemptStartedAt = null;
          return { text: finishedText(s, 'merged'), tone: 'ok' as const };
        });
      }
      const s = streamOf(model, event.streamId);
      s.activity = null;
      s.attemptStartedAt = null;
      return [{ text: finishedText(s, 'merged'), tone: 'ok' }];
    }
    case 'stream-failed': {
      const s = streamOf(model, event.streamId);
      s.status = 'failed';
      s.attemptStartedAt = null;
      const first = event.message.split('\n')[0] ?? '';
      return [{ text: finishedText(s, `failed [${event.code}] ${first}`), tone: 'bad' }];
    }
    case 'stream-skipped': {
      const s = streamOf(model, event.streamId);
      s.status = 'skipped';
      s.attemptStartedAt = null;
      return [{ text: `– ${s.id}  skipped: ${event.reason}`, tone: 'warn' }];
    }
    case 'stream-reset': {
      const s = streamOf(model, event.streamId);
      s.status = 'pending';
      s.activity = null;
      s.attemptStartedAt = null;
      return [{ text: `↻ ${s.id}  to run again: ${event.reason}`, tone: 'warn' }];
    }
    case 'stream-interrupted': {
      const s = streamOf(model, event.streamId);
      s.status = 'interrupted';
      s.attemptStartedAt = null;
      return [{ text: `! ${s.id}  interrupted (${event.reason}); resumable`, tone: 'warn' }];
    }
    case 'stream-retry': {
      const s = streamOf(model, event.streamId);
      if (s.status === 'merged') s.status = 'running';
      s.activity = `retrying: ${event.reason}`;
      return [
        { text: `↻ ${s.id}  retrying (attempt ${String(event.attempt)}): ${event.reason}`, tone: 'warn' },
      ];
    }
    case 'validation-failed':
    case 'merge-conflict':
    case 'budget-exceeded':
    case 'safety-finding':
      return line('bad');
    case 'ownership-violation':
      return line(event.mode === 'fail' ? 'bad' : 'warn');
    case 'integration-reset':
    case 'batch-gated':
    case 'queue-attempt':
    case 'note':
    case 'ports-reserved':
      return line('dim');
    case 'setup-started': {
      const text = `setup: ${event.commands.join(' && ')}`;
      if (event.streamId !== null) streamOf(model, event.streamId).activity = text;
      else for (const s of awaitingGate(model)) s.activity = text;
      return [];
    }
    case 'setup-finished':
      if (event.streamId !== null) streamOf(model, event.streamId).activity = event.ok ? 'setup done' : null;
      return event.ok ? [] : line('bad');
    case 'baseline':
      return line(event.phase === 'failed' ? 'bad' : 'dim');
    case 'worktree-restored':
      return line('warn');
    case 'run-finished':
      model.finished = event.status;
      return [];
    default:
      return unreachable(event);
  }
}

function activityText(kind: 'edit' | 'command' | 'retry' | 'warning', text: string): string {
  switch (kind) {
    case 'edit':
      return `editing ${text}`;
    case 'command':
      return `$ ${text}`;
    case 'retry':
      return text;
    case 'warning':
      return `warning: ${text}`;
    default:
      return unreachable(kind);
  }
}

function finishedText(s: LiveStream, outcome: string): string {
  const mark = s.status === 'failed' ? '✗' : '✓';
  const parts = [`${mark} ${s.id}`, outcome, formatDuration(s.durationMs)];
  if (s.changedFiles > 0 && s.status !== 'failed')
    parts.push(`${String(s.changedFiles)} ${s.changedFiles === 1 ? 'file' : 'files'}`);
  const usage = formatUsage(s.doneTokens + s.liveTokens, s.doneCostUsd + s.liveCostUsd);
  if (usage !== '') parts.push(usage);
  if (s.title !== s.id) parts.push(s.title);
  return parts.join('  ');
}

/** `950ms`, `42s`, `3m07s`, `1h02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${String(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${String(m)}m${String(s % 60).padStart(2, '0')}s`;
  return `${String(Math.floor(m / 60))}h${String(m % 60).padStart(2, '0')}m`;
}

/** `12.3k tok $0.41`; empty when nothing was reported. */
export function formatUsage(tokens: number, costUsd: number): string {
  const parts: string[] = [];
  if (tokens > 0)
    parts.push(
      `${tokens >= 1000 ? `${(tokens / 1000).toFixed(tokens >= 100_000 ? 0 : 1)}k` : String(tokens)} tok`,
    );
  if (costUsd > 0) parts.push(`$${costUsd.toFixed(2)}`);
  return parts.join(' ');
}

/** Streams shown in the window: those an agent, a merge or a gate is working on. */
export function activeStreams(model: LiveModel): LiveStream[] {
  return model.order
    .map((id) => model.streams.get(id))
    .filter((s): s is LiveStream => s !== undefined)
    .filter(
      (s) =>
        s.status === 'running' || s.status === 'committed' || (s.status === 'merged' && s.activity !== null),
    );
}

/** Total cost so far: finished attempts plus what running agents have reported. */
export function totalCost(model: LiveModel): number {
  let sum = 0;
  for (const s of model.streams.values()) sum += s.doneCostUsd + s.liveCostUsd;
  return sum;
}

/** The header: `wave 2/4 · 7/12 merged · 3 running · 1 failed · $4.12 · 3m12s`. */
export function headerText(model: LiveModel, now: number): string {
  const all = [...model.streams.values()];
  const count = (st: StreamStatus) => all.filter((s) => s.status === st).length;
  const parts: string[] = [];
  if (model.wave !== null && model.waveCount > 0)
    parts.push(`wave ${String(model.wave + 1)}/${String(model.waveCount)}`);
  parts.push(`${String(count('merged'))}/${String(all.length)} merged`);
  parts.push(`${String(activeStreams(model).filter((s) => s.status !== 'merged').length)} running`);
  for (const st of ['failed', 'skipped', 'interrupted'] as const) {
    const n = count(st);
    if (n > 0) parts.push(`${String(n)} ${st}`);
  }
  const cost = totalCost(model);
  if (cost > 0) parts.push(`$${cost.toFixed(2)}`);
  if (model.startedAt !== null) parts.push(formatDuration(now - model.startedAt));
  return parts.join(' · ');
}

const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Options of a frame: terminal size, colours, the clock. */
export interface FrameOptions {
  readonly columns: number;
  readonly rows: number;
  readonly color: boolean;
  readonly now: number;
}

const sgr = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;

function paint(text: string, style: keyof typeof sgr | null, color: boolean): string {
  if (!color || style === null || text === '') return text;
  return `\u001b[${sgr[style]}m${text}\u001b[0m`;
}

/**
 * Cuts text to `width` terminal columns, ending in `…` when cut. Columns, not characters: CJK and
 * most emoji take two, so a plan title in Japanese must not push a line past the terminal's edge.
 */
export function fitWidth(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  // Whole graphemes (an emoji with its modifiers, a letter with its accents) until one more column,
  // for the ellipsis, would not fit.
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Columns laid out left to right, each cut to what is left of the line; styles applied after cutting. */
function layoutLine(
  cells: readonly { text: string; style: keyof typeof sgr | null }[],
  width: number,
  color: boolean,
): string {
  let left = width;
  const out: string[] = [];
  for (const [i, cell] of cells.entries()) {
    if (left <= 0) break;
    const sep = i === 0 ? '' : ' ';
    if (sep.length >= left) break;
    const text = fitWidth(cell.text, left - sep.length);
    left -= sep.length + stringWidth(text);
    out.push(sep + paint(text, cell.style, color));
  }
  return out.join('');
}

/**
 * The window of a frame: the header, then one line per active stream. Every line fits `columns - 1`
 * (a line exactly as wide as the terminal wraps on some terminals); at most `rows - 1` lines, the last
 * saying how many more streams are active when they do not all fit.
 */
export function layoutFrame(model: LiveModel, options: FrameOptions): string[] {
  const width = Math.max(10, options.columns - 1);
  const { color, now } = options;
  const title = model.runId === null ? 'maestro' : `maestro ${model.runId}`;
  const lines = [
    layoutLine(
      [
        { text: title, style: 'bold' },
        { text: headerText(model, now), style: null },
      ],
      width,
      color,
    ),
  ];
  const active = activeStreams(model);
  const idWidth = Math.min(24, Math.max(0, ...active.map((s) => s.id.length)));
  const roleWidth = Math.min(14, Math.max(0, ...active.map((s) => s.role.length)));
  const usages = active.map((s) => formatUsage(s.doneTokens + s.liveTokens, s.doneCostUsd + s.liveCostUsd));
  const widest = Math.max(0, ...usages.map((u) => u.length));
  // Usage is a padded column only when that leaves the activity 20 columns; else it is shown where present.
  const fixed = 2 + 1 + idWidth + 1 + roleWidth + 1 + 6 + 1;
  const usageWidth = width - fixed - (widest + 1) >= 20 ? widest : 0;
  const room = Math.max(1, options.rows - 1 - lines.length);
  const shown = active.length > room ? active.slice(0, room - 1) : active;
  const tick = spinner[Math.floor(now / 100) % spinner.length] ?? '*';
  for (const [i, s] of shown.entries()) {
    const elapsed = s.attemptStartedAt === null ? '' : formatDuration(now - s.attemptStartedAt);
    lines.push(
      layoutLine(
        [
          { text: ` ${s.status === 'running' ? tick : '⋯'}`, style: 'cyan' },
          { text: fitWidth(s.id, idWidth).padEnd(idWidth), style: 'bold' },
          { text: fitWidth(s.role, roleWidth).padEnd(roleWidth), style: 'dim' },
          { text: elapsed.padStart(6), style: null },
          ...((usages[i] ?? '') !== '' || usageWidth > 0
            ? [{ text: (usages[i] ?? '').padEnd(usageWidth), style: 'dim' as const }]
            : []),
          { text: s.activity ?? s.title, style: s.activity === null ? 'dim' : null },
        ],
        width,
        color,
      ),
    );
  }
  if (shown.length < active.length)
    lines.push(
      layoutLine(
        [{ text: `  … ${String(active.length - shown.length)} more active`, style: 'dim' }],
        width,
        color,
      ),
    );
  return lines;
}

/** How a permanent line looks. */
export function formatLogLine(line: LogLine, color: boolean): string {
  const style = ({ ok: 'green', bad: 'red', warn: 'yellow', dim: 'dim', plain: null } as const)[line.tone];
  return paint(line.text, style, color);
}

/** Options of a live view. */
export interface LiveViewOptions {
  readonly streams: readonly LiveStreamInfo[];
  readonly waveCount: number;
  readonly color: boolean;
  /** Streams whose other writes go above the window (stdout, stderr). */
  readonly intercept?: readonly InterceptableStream[];
  readonly intervalMs?: number;
}

/** The live view on a terminal: feed it events with `onEvent` (a bus listener); `stop` before printing the summary. */
export class LiveView {
  readonly model: LiveModel;
  readonly #renderer: WindowedRenderer;
  readonly #color: boolean;

  constructor(out: TerminalStream, options: LiveViewOptions) {
    this.model = createLiveModel(options.streams, options.waveCount);
    this.#color = options.color;
    this.#renderer = new WindowedRenderer(out, {
      window: (size) => layoutFrame(this.model, { ...size, color: this.#color, now: Date.now() }),
      ...(options.intercept === undefined ? {} : { intercept: options.intercept }),
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    });
  }

  /** A bus listener. */
  readonly onEvent = (event: RunEvent): void => {
    for (const line of applyLiveEvent(this.model, event))
      this.#renderer.log(formatLogLine(line, this.#color));
    this.#renderer.update();
  };

  start(): void {
    this.#renderer.start();
  }

  /** Takes the window off the screen (for a prompt); `start` brings it back. */
  pause(): void {
    this.#renderer.stop();
  }

  stop(): void {
    this.#renderer.stop();
  }
}
