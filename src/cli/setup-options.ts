/**
 * The setup side of `run` and `analyze`: which commands prepare each worktree (`--setup` over
 * `maestro.config.*` over the plan over detection) and how the summaries say so.
 */
import type { Analysis } from '../analyze/types.js';
import { loadConfig } from '../config/load.js';
import type { MaestroConfig } from '../config/schema.js';
import { describeSetup, type SetupSpec } from '../run/setup-detect.js';
import { setupForRun } from '../run/setup.js';
import { listIncludedFiles } from '../run/worktree-include.js';

/** The setup a run of `analysis` in `repo` would use. `config` is read from the repository when omitted. */
export async function runSetupFor(
  repo: string,
  analysis: Analysis,
  flags: readonly string[],
  options: { teardown?: readonly string[]; config?: MaestroConfig; base?: string } = {},
): Promise<SetupSpec> {
  const config = options.config ?? (await loadConfig(repo))?.config ?? {};
  return setupForRun(repo, options.base ?? 'HEAD', {
    flags,
    config: config.setup,
    plan: analysis.plan.settings.setup,
    teardownFlags: options.teardown ?? [],
    configTeardown: config.teardown,
    planTeardown: analysis.plan.settings.teardown,
  });
}

/** Summary lines: the setup and its origin, the teardown, and what `.worktreeinclude` copies. */
export async function setupSummaryLines(spec: SetupSpec, repo?: string): Promise<string[]> {
  const lines = [describeSetup(spec)];
  if (spec.teardown.length > 0) lines.push(`teardown: ${spec.teardown.join(' && ')}`);
  if (repo !== undefined) {
    const included = await listIncludedFiles(repo);
    if (included.length > 0) {
      const shown = included.slice(0, 5).join(', ');
      lines.push(
        `.worktreeinclude: copies ${shown}${included.length > 5 ? ` and ${String(included.length - 5)} more` : ''} into each worktree`,
      );
    }
  }
  return lines;
}
