/**
 * Paths a shell or a careless reader would mangle: a space, an apostrophe, a leading dash, non-ASCII
 * letters. `analyze` takes all four backticked paths as files, and `maestro run` (with a stand-in agent
 * that writes each stream's files from MAESTRO_FILES) merges them intact onto the integration branch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { processesUnder } from '../../src/run/orphans.js';
import { installStandInAgent } from '../helpers/agent.js';
import { commandRunArgs, runCli } from '../helpers/cli.js';
import { repoWithPlan } from '../helpers/plan.js';
import { dirtyUserCheckout, gitSync } from '../helpers/repo.js';

const hostile = ['docs/Read Me.md', "config/it's.json", 'config/-dash.yml', 'docs/naïve-ünïcode.md'];

const plan = `# Awkward names

## Phase 1: Write the awkward files

Files:
${hostile.map((p) => `- \`${p}\``).join('\n')}

## Phase 2: Plain file

Files:
- \`src/plain.ts\`
`;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('hostile paths', () => {
  it('are all read as files and merged intact by maestro run', async () => {
    const { dir, repo, plan: planFile } = repoWithPlan(cleanups, 'maestro-e2e-paths-', plan);
    const verify = dirtyUserCheckout(repo);
    const agent = installStandInAgent(dir);
    cleanups.push(() => {
      expect(processesUnder(repo)).toEqual([]);
    });

    const analysed = await runCli(['analyze', planFile, '--repo', repo, '--json'], repo);
    expect(analysed.code, analysed.stderr).toBe(0);
    const analysis = JSON.parse(analysed.stdout) as { plan: { phases: { files: { path: string }[] }[] } };
    expect(analysis.plan.phases[0]?.files.map((f) => f.path)).toEqual(hostile);

    const run = await runCli(commandRunArgs(planFile, repo, agent.command, { noLive: false }), repo);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const st = JSON.parse((await runCli(['status', '--json', '--repo', repo], repo)).stdout) as {
      status: string;
      integrationBranch: string;
    };
    expect(st.status).toBe('completed');
    // -z: names exactly as stored, without git's quoting of spaces and non-ASCII bytes.
    const tree = gitSync(repo, ['ls-tree', '-r', '-z', '--name-only', st.integrationBranch])
      .split('\0')
      .filter((p) => p !== '');
    expect(tree).toEqual(expect.arrayContaining([...hostile, 'src/plain.ts']));
    for (const file of hostile)
      expect(gitSync(repo, ['show', `${st.integrationBranch}:${file}`])).toContain('// s');
    verify();
  }, 120_000);
});
