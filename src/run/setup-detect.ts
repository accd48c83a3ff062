/**
 * Which setup a worktree needs, and where that choice came from: `--setup` flags over
 * `maestro.config.*` over the plan's `setup:` over detection from the project's lockfiles.
 * Pure functions over lists of tracked paths; no I/O (the caller lists the files and checks PATH).
 */

/** Where the setup commands of a run came from (`none`: nothing configured, nothing detected). */
export type SetupSource = 'flag' | 'config' | 'plan' | 'detected' | 'none';

/** The setup a run uses in every worktree, saved with the run's options. */
export interface SetupSpec {
  /** Shell commands, run in order with `/bin/sh -c` in each worktree before its agent or first gate. */
  readonly commands: readonly string[];
  readonly source: SetupSource;
  /** For detected commands: the lockfile each came from (same order as `commands`). */
  readonly detectedFrom: readonly string[];
  /** The executables detected commands need (checked on PATH before any agent starts). */
  readonly tools: readonly string[];
  /** Commands run in a worktree just before it is removed (`maestro clean`). */
  readonly teardown: readonly string[];
}

/** One install the project's files imply. */
interface Detector {
  /** Lockfile (repository root) whose presence selects this install. */
  readonly lockfile: string;
  /** Ecosystem: only the first detector of an ecosystem applies. */
  readonly ecosystem: 'node' | 'python' | 'ruby' | 'php';
  readonly tool: string;
  /** The command; `files` are the root's tracked paths (for variants such as Yarn Berry). */
  readonly command: (files: ReadonlySet<string>) => string;
}

// Flags that prefer the local cache and never rewrite the lockfile: a setup must reproduce the
// committed dependencies, quickly, in every worktree.
const detectors: readonly Detector[] = [
  {
    lockfile: 'package-lock.json',
    ecosystem: 'node',
    tool: 'npm',
    command: () => 'npm ci --prefer-offline --no-audit --no-fund',
  },
  {
    lockfile: 'npm-shrinkwrap.json',
    ecosystem: 'node',
    tool: 'npm',
    command: () => 'npm ci --prefer-offline --no-audit --no-fund',
  },
  {
    lockfile: 'pnpm-lock.yaml',
    ecosystem: 'node',
    tool: 'pnpm',
    command: () => 'pnpm install --frozen-lockfile --prefer-offline',
  },
  {
    lockfile: 'yarn.lock',
    ecosystem: 'node',
    tool: 'yarn',
    // Yarn Berry (a `.yarnrc.yml`) renamed the flags: --immutable is its --frozen-lockfile.
    command: (files) =>
      files.has('.yarnrc.yml')
        ? 'yarn install --immutable'
        : 'yarn install --frozen-lockfile --prefer-offline',
  },
  { lockfile: 'bun.lock', ecosystem: 'node', tool: 'bun', command: () => 'bun install --frozen-lockfile' },
  { lockfile: 'bun.lockb', ecosystem: 'node', tool: 'bun', command: () => 'bun install --frozen-lockfile' },
  { lockfile: 'uv.lock', ecosystem: 'python', tool: 'uv', command: () => 'uv sync --frozen' },
  {
    lockfile: 'poetry.lock',
    ecosystem: 'python',
    tool: 'poetry',
    command: () => 'poetry install --no-interaction --no-root',
  },
  { lockfile: 'Pipfile.lock', ecosystem: 'python', tool: 'pipenv', command: () => 'pipenv sync' },
  {
    // Not a lockfile, but the usual pinned list: a private `.venv` per worktree, as `uv` would make.
    lockfile: 'requirements.txt',
    ecosystem: 'python',
    tool: 'python3',
    command: () =>
      'python3 -m venv .venv && .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt',
  },
  {
    lockfile: 'Gemfile.lock',
    ecosystem: 'ruby',
    tool: 'bundle',
    command: () => 'bundle install --prefer-local',
  },
  {
    lockfile: 'composer.lock',
    ecosystem: 'php',
    tool: 'composer',
    command: () => 'composer install --no-interaction --prefer-dist',
  },
];

/** The installs the repository's root files imply, one per ecosystem, in a fixed order. */
export function detectSetup(
  trackedPaths: readonly string[],
): { command: string; lockfile: string; tool: string }[] {
  const root = new Set(trackedPaths.filter((p) => !p.includes('/')));
  const seen = new Set<string>();
  const found: { command: string; lockfile: string; tool: string }[] = [];
  for (const d of detectors) {
    if (seen.has(d.ecosystem) || !root.has(d.lockfile)) continue;
    seen.add(d.ecosystem);
    found.push({ command: d.command(root), lockfile: d.lockfile, tool: d.tool });
  }
  return found;
}

/** Where setup commands may be given; `undefined` means "not said here", `[]` means "none". */
export interface SetupInputs {
  readonly flags: readonly string[];
  readonly config?: string | readonly string[] | undefined;
  readonly plan?: readonly string[] | undefined;
  readonly teardownFlags?: readonly string[];
  readonly configTeardown?: string | readonly string[] | undefined;
  readonly planTeardown?: readonly string[] | undefined;
  /** Tracked paths of the base commit, for detection. */
  readonly trackedPaths: readonly string[];
}

const asList = (v: string | readonly string[] | undefined): readonly string[] | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? [v] : v;

/** Settles a run's setup: flags win, then the config file, then the plan, then detection. */
export function resolveSetup(input: SetupInputs): SetupSpec {
  const teardown =
    (input.teardownFlags ?? []).length > 0
      ? (input.teardownFlags ?? [])
      : (asList(input.configTeardown) ?? input.planTeardown ?? []);
  const stated: [SetupSource, readonly string[] | undefined][] = [
    ['flag', input.flags.length > 0 ? input.flags : undefined],
    ['config', asList(input.config)],
    ['plan', input.plan],
  ];
  for (const [source, commands] of stated) {
    if (commands === undefined) continue;
    // `setup: []` is an answer: no setup, and no detection either.
    return {
      commands: commands.filter((c) => c.trim() !== ''),
      source,
      detectedFrom: [],
      tools: [],
      teardown,
    };
  }
  const detected = detectSetup(input.trackedPaths);
  return {
    commands: detected.map((d) => d.command),
    source: detected.length === 0 ? 'none' : 'detected',
    detectedFrom: detected.map((d) => d.lockfile),
    tools: detected.map((d) => d.tool),
    teardown,
  };
}

/** One line for summaries: `setup: npm ci (detected from package-lock.json)`. */
export function describeSetup(spec: SetupSpec): string {
  if (spec.commands.length === 0)
    return spec.source === 'none' || spec.source === 'detected'
      ? 'setup: none (no lockfile found; set one with --setup or setup: in maestro.config.json)'
      : `setup: none (turned off in ${sourceWords[spec.source]})`;
  const parts = spec.commands.map((c, i) =>
    spec.source === 'detected' ? `${c} (detected from ${spec.detectedFrom[i] ?? '?'})` : c,
  );
  const from = spec.source === 'detected' ? '' : ` (from ${sourceWords[spec.source]})`;
  return `setup: ${parts.join(' && ')}${from}`;
}

const sourceWords: Readonly<Record<SetupSource, string>> = {
  flag: '--setup',
  config: 'maestro.config',
  plan: 'the plan',
  detected: 'detection',
  none: 'nothing',
};

/**
 * Root files whose content a setup depends on: when none of them changed between the commit a
 * worktree's setup last ran on and its new start commit, the setup need not run again.
 */
export const setupInputFiles: readonly string[] = [
  '.worktreeinclude',
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'yarn.lock',
  '.yarnrc.yml',
  'bun.lock',
  'bun.lockb',
  'pyproject.toml',
  'uv.lock',
  'poetry.lock',
  'Pipfile',
  'Pipfile.lock',
  'requirements.txt',
  'requirements-dev.txt',
  'setup.py',
  'setup.cfg',
  'Gemfile',
  'Gemfile.lock',
  'composer.json',
  'composer.lock',
  'Cargo.toml',
  'Cargo.lock',
  'go.mod',
  'go.sum',
];
