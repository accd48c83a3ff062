/**
 * A temp repository, a plan and a shell stand-in agent for the safety tests (issue 16): the built CLI runs
 * `--agent command` with a script the test writes, and worktrees go under the fixture's own cache dir.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { processesUnder } from './procs.js';
import { commandRunArgs, runCli } from './cli.js';
import { planMarkdown, repoWithPlan, type PhaseSpec } from './plan.js';
import { dirtyUserCheckout } from './repo.js';

/** One safety trial's repository and how to run Maestro on it. */
export interface BadAgentFixture {
  readonly root: string;
  readonly repo: string;
  readonly plan: string;
  /** Throws if the user's checkout changed (HEAD, index, changed and untracked files' bytes). */
  readonly verify: () => void;
  /** `maestro run` arguments with `script` as the agent (`--retries 0`), plus `extra`. */
  readonly args: (script: string, ...extra: string[]) => string[];
  readonly cacheDir: string;
  /** Environment for the CLI: worktrees under the fixture's cache dir. */
  readonly env: Record<string, string>;
}

const twoPhases: readonly PhaseSpec[] = [
  { title: 'Alpha', files: ['a.ts'] },
  { title: 'Bravo', files: ['b.ts'], deps: [1] },
];

/** Writes the stream's own file (Alpha → a.ts, Bravo → b.ts): the stand-in's normal work. */
export const ownWork =
  'case "$MAESTRO_STREAM_TITLE" in Alpha) echo alpha > a.ts ;; Bravo) echo bravo > b.ts ;; esac\n';

/** A fixture; `cleanups` gets its removal and the check that no agent process outlived the run. */
export function badAgentFixture(
  cleanups: (() => void)[],
  phases: readonly PhaseSpec[] = twoPhases,
): BadAgentFixture {
  const { dir, repo, plan } = repoWithPlan(
    cleanups,
    'maestro-bad-agent-',
    planMarkdown('Safety plan', phases),
  );
  const verify = dirtyUserCheckout(repo);
  const cacheDir = path.join(dir, 'cache');
  cleanups.push(() => {
    // Nothing the agents started may still run anywhere in the run's worktrees.
    expect(processesUnder(cacheDir)).toEqual([]);
  });
  return {
    root: dir,
    repo,
    plan,
    verify,
    cacheDir,
    env: { XDG_CACHE_HOME: cacheDir },
    args: (script, ...extra) => {
      const file = path.join(dir, `agent-${String(Math.random()).slice(2)}.sh`);
      writeFileSync(file, script);
      return [...commandRunArgs(plan, repo, `sh '${file}'`, { noLive: false, retries: 0 }), ...extra];
    },
  };
}

/** `maestro status --json`, as the safety tests read it. */
export interface StatusJson {
  status: string;
  integrationBranch: string;
  streams: Record<
    string,
    { status: string; error: { code: string; message: string } | null; warnings: string[] }
  >;
}

/** The run's status (`maestro status --json`). */
export async function runStatus(f: BadAgentFixture): Promise<StatusJson> {
  const r = await runCli(['status', '--json', '--repo', f.repo], f.repo, f.env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** A Node stack trace line in CLI output (none may ever reach the user for an expected failure). */
export const stackTraceLine = /\n\s+at .*\.js:\d+/;
