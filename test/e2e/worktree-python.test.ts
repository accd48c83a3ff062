/**
 * End to end with a real Python project: a `.venv` in the user's checkout (made by the test, never
 * activated) and a pytest gate that calls `.venv/bin/python`. Each worktree gets its own venv from
 * the detected setup (`requirements.txt`), so the gate passes on what the worktree has, not on the
 * user's environment leaking in.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandRunArgs, runCli } from '../helpers/cli.js';
import { planMarkdown } from '../helpers/plan.js';
import { latestJournal, makePythonProject, packageCacheEnv, treeDigest } from '../helpers/projects.js';
import { makeTempDir } from '../helpers/repo.js';

const tmp = makeTempDir('maestro-py-');
afterAll(() => {
  tmp.cleanup();
});

/** A stand-in agent that writes a module and its pytest test, and records which python it found. */
const agentScript = String.raw`
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const here = path.dirname(new URL(import.meta.url).pathname);
const id = process.env.MAESTRO_STREAM_ID;
const [mod, test] = process.env.MAESTRO_FILES.split('\n').filter(Boolean);
const name = path.basename(mod, '.py');
writeFileSync(mod, 'def value():\n    return "' + id + '"\n');
writeFileSync(test, 'from ' + name + ' import value\n\n\ndef test_value():\n    assert value() == "' + id + '"\n');
appendFileSync(path.join(here, 'agents.jsonl'), JSON.stringify({ id, venv: existsSync('.venv/bin/python'), virtualEnv: process.env.VIRTUAL_ENV ?? null }) + '\n');
writeFileSync(process.env.MAESTRO_REPORT_FILE, 'done ' + id + '\n');
`;

describe('worktrees that run: a Python project', () => {
  it('a venv that is not activated and a pytest gate: every worktree has its own venv', async () => {
    const repo = path.join(tmp.dir, 'repo');
    makePythonProject(repo);
    const userVenv = treeDigest(path.join(repo, '.venv'));
    const agent = path.join(tmp.dir, 'agent.mjs');
    writeFileSync(agent, agentScript);
    const plan = path.join(tmp.dir, 'plan.md');
    writeFileSync(
      plan,
      planMarkdown('Two modules', [
        { title: 'Alpha', files: ['alpha.py', 'test_alpha.py'] },
        { title: 'Beta', files: ['beta.py', 'test_beta.py'] },
        { title: 'Gamma', deps: [1, 2], files: ['gamma.py', 'test_gamma.py'] },
      ]),
    );
    // The user's venv is not activated: no VIRTUAL_ENV, and its bin is not on PATH.
    const env = { ...packageCacheEnv, VIRTUAL_ENV: '' };
    const r = await runCli(
      [
        ...commandRunArgs(plan, repo, `node ${agent}`),
        '--max-parallel',
        '2',
        '--validate',
        '.venv/bin/python -m pytest -q -p no:cacheprovider',
      ],
      repo,
      env,
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const events = latestJournal(repo);
    expect(events.filter((e) => e.type === 'stream-merged')).toHaveLength(3);
    // Detected from requirements.txt: a private venv per worktree.
    const setups = events.filter((e) => e.type === 'setup-started');
    expect(String((setups[0]?.commands as string[])[0])).toContain('python3 -m venv .venv');
    expect(setups.length).toBeLessThanOrEqual(2 + 2);
    // Every gate ran pytest in the integration worktree's own venv, and passed (baseline included).
    expect(events.find((e) => e.type === 'baseline' && e.phase === 'passed')).toBeDefined();
    expect(events.filter((e) => e.type === 'validation-failed')).toEqual([]);
    const agents = readFileSync(path.join(tmp.dir, 'agents.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { venv: boolean });
    expect(agents).toHaveLength(3);
    for (const a of agents) expect(a.venv).toBe(true);
    expect(treeDigest(path.join(repo, '.venv'))).toBe(userVenv);
  }, 600_000);
});
