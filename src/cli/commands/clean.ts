import type { Command } from '@commander-js/extra-typings';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { deleteBranch, listBranches, listWorktrees, removeWorktree } from '../../git/git.js';
import { integrationBranchName, loadRun } from '../../run/engine.js';
import { listRuns } from '../../run/journal.js';
import { readLockOwner } from '../../run/lock.js';
import { portOf } from '../../run/ports.js';
import { runTeardown } from '../../run/setup.js';
import { CliError } from '../errors.js';
import { resolveRepo } from '../run-support.js';

/**
 * The `MAESTRO_PORT` a worktree had: `slot-N` the Nth block, gate lane `gate-N` the Nth block after the
 * stream slots', the integration worktree the first.
 */
function slotPort(base: number | undefined, name: string, maxParallel: number): number {
  if (base === undefined) return 0;
  const slot = /^slot-(\d+)$/.exec(name);
  const gate = /^gate-(\d+)$/.exec(name);
  return portOf(base, slot !== null ? Number(slot[1]) : gate !== null ? maxParallel + Number(gate[1]) : 0);
}

/** `maestro clean [RUN]`: remove worktrees and stream branches of finished runs; keep reports. */
export function registerClean(program: Command): void {
  program
    .command('clean')
    .description('Remove the worktrees and stream branches of finished runs (reports and journals are kept)')
    .argument('[run]', 'run id (default: every completed, failed or aborted run)')
    .option('--repo <dir>', 'repository (default: the one containing the current directory)')
    .option('--branches', 'also delete the integration branch maestro/<run-id> (stream branches always go)')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro clean                           # every finished run
  $ maestro clean 20261128-101500-ab12 --branches`,
    )
    .action(async (runArg, flags) => {
      const repo = await resolveRepo(flags.repo);
      const owner = readLockOwner(repo);
      const ids = runArg === undefined ? await listRuns(repo) : [runArg];
      let cleaned = 0;
      for (const id of ids) {
        if (owner?.runId === id) {
          if (runArg !== undefined)
            throw new CliError(`run ${id} is still running (pid ${String(owner.pid)}); abort it first`, 1);
          continue;
        }
        let loaded;
        try {
          loaded = await loadRun(repo, id);
        } catch {
          if (runArg !== undefined) throw new CliError(`no run ${id} in ${repo}`);
          continue;
        }
        const finished = ['completed', 'failed', 'aborted'].includes(loaded.state.status);
        if (runArg === undefined && !finished) continue;
        const root = loaded.paths.worktrees;
        const teardown = loaded.options.setup?.teardown ?? [];
        for (const w of await listWorktrees(repo)) {
          if (w.path !== root && !w.path.startsWith(`${root}/`)) continue;
          if (teardown.length > 0) {
            const problems = await runTeardown(
              { teardown },
              {
                root: repo,
                worktree: w.path,
                streamId: path.basename(w.path),
                port: slotPort(loaded.state.portBase, path.basename(w.path), loaded.options.maxParallel),
                timeoutMs: loaded.options.timeoutMs,
              },
            );
            for (const p of problems) process.stderr.write(`maestro: ${id}: ${p}\n`);
          }
          await removeWorktree(repo, w.path);
        }
        await rm(root, { recursive: true, force: true });
        for (const branch of await listBranches(repo, `maestro/${id}--`)) await deleteBranch(repo, branch);
        const integration = integrationBranchName(id);
        if (flags.branches === true) await deleteBranch(repo, integration);
        process.stdout.write(
          `cleaned ${id}${flags.branches === true ? '' : ` (kept ${integration}; delete with: git branch -D ${integration})`}\n`,
        );
        cleaned += 1;
      }
      if (cleaned === 0) process.stdout.write('nothing to clean\n');
    });
}
