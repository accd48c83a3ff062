/**
 * Progress output for `run`, `resume` and `status --watch`: JSON lines, plain lines, or the live view,
 * as `chooseOutput` decides. The engine only publishes events; this wires the chosen subscriber.
 */
import { EventBus } from '../run/events.js';
import { jsonReporter, lineReporter } from '../run/reporters.js';
import { LiveView, type LiveStreamInfo } from '../ui/live-view.js';
import { chooseOutput, type OutputMode } from '../ui/output-mode.js';

/** The progress output of one command. */
export interface Progress {
  readonly bus: EventBus;
  readonly mode: OutputMode;
  /** Runs a prompt with the live view taken off the screen (it comes back afterwards). */
  whilePaused<T>(work: () => Promise<T>): Promise<T>;
  /** Takes the live view off the screen for good (before the summary); safe to call twice. */
  readonly stop: () => void;
}

/** Flags every progress-printing command takes. */
export interface ProgressFlags {
  readonly json?: boolean;
  readonly color?: boolean;
  readonly live?: boolean;
}

/** The output mode for these flags, this process's stdout and environment. */
export function outputModeFor(flags: ProgressFlags): OutputMode {
  return chooseOutput({
    json: flags.json === true,
    noColorFlag: flags.color === false,
    noLiveFlag: flags.live === false,
    isTTY: process.stdout.isTTY,
    env: process.env,
  });
}

/** Starts the progress output for a plan's streams. */
export function startProgress(
  mode: OutputMode,
  plan: { readonly streams: readonly LiveStreamInfo[]; readonly waves: readonly (readonly string[])[] },
): Progress {
  const bus = new EventBus();
  const write = (line: string) => process.stdout.write(line);
  if (mode.kind !== 'live') {
    bus.subscribe(mode.kind === 'json' ? jsonReporter(write) : lineReporter(write));
    return { bus, mode, whilePaused: (work) => work(), stop: () => undefined };
  }
  const view = new LiveView(process.stdout, {
    streams: plan.streams.map((s) => ({ id: s.id, title: s.title, role: s.role })),
    waveCount: plan.waves.length,
    color: mode.color,
    intercept: [process.stdout, process.stderr],
  });
  bus.subscribe(view.onEvent);
  let stopped = false;
  view.start();
  return {
    bus,
    mode,
    whilePaused: async (work) => {
      view.pause();
      try {
        return await work();
      } finally {
        if (!stopped) view.start();
      }
    },
    stop: () => {
      stopped = true;
      view.stop();
    },
  };
}
