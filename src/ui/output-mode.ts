/**
 * Which progress output a command uses. The live view needs a real terminal that understands cursor
 * movement; CI logs, pipes and `--json` get the plain line reporter or JSON lines instead.
 */

/** The progress output: JSON lines, one plain line per event, or the live view (with or without colour). */
export type OutputMode =
  { readonly kind: 'json' } | { readonly kind: 'plain' } | { readonly kind: 'live'; readonly color: boolean };

/** What the choice depends on (all from the CLI layer: flags, `process.stdout.isTTY`, the environment). */
export interface OutputContext {
  readonly json: boolean;
  /** `--no-color` was given. */
  readonly noColorFlag: boolean;
  /** `--no-live` was given. */
  readonly noLiveFlag: boolean;
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const set = (value: string | undefined) => value !== undefined && value !== '';

/**
 * Picks the output. The live view is used only on a TTY, outside CI (`CI` set), with a capable
 * terminal (`TERM` not `dumb`), without `--json`, `--no-live`, `--no-color` or `NO_COLOR`
 * (https://no-color.org): users who ask for no colour usually want plain, log-friendly output, so
 * they get the plain line reporter.
 */
export function chooseOutput(context: OutputContext): OutputMode {
  if (context.json) return { kind: 'json' };
  const env = context.env;
  if (
    !context.isTTY ||
    context.noLiveFlag ||
    context.noColorFlag ||
    set(env.NO_COLOR) ||
    set(env.CI) ||
    env.TERM === 'dumb'
  )
    return { kind: 'plain' };
  return { kind: 'live', color: true };
}
