/**
 * Misbehaving agents against the built CLI (findings 1–7), one test each: `rm .git`, a smuggled ref,
 * a write into the user's checkout, a daemon holding the pipes, background daemons, a no-op agent and
 * leaked secrets. Each verifies the user's checkout byte for byte (except, in the escape test, the one
 * file the agent wrote there, which Maestro must report and never touch).
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processesUnder } from '../helpers/procs.js';
import {
  badAgentFixture,
  ownWork,
  runStatus,
  stackTraceLine,
  type BadAgentFixture,
  type StatusJson,
} from '../helpers/bad-agent.js';
import { runCli, startCli } from '../helpers/cli.js';
import type { PhaseSpec } from '../helpers/plan.js';
import { gitSync } from '../helpers/repo.js';
import { fakeSecrets } from '../helpers/secrets.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const fixture = (phases?: readonly PhaseSpec[]): BadAgentFixture => badAgentFixture(cleanups, phases);
const env = (f: BadAgentFixture): Record<string, string> => f.env;
const status = runStatus;

describe('misbehaving agents', () => {
  it('rm .git: the stream fails worktree-broken and nothing reaches the user repository', async () => {
    const f = fixture();
    const mainBefore = gitSync(f.repo, ['rev-parse', 'main']);
    // Worktrees nested inside the user's repository (as they once were), so a git command in one whose
    // `.git` is gone would fall through to the user's checkout: the identity check must stop it.
    const nested = { XDG_CACHE_HOME: path.join(f.repo, '.maestro', 'cache') };
    const r = await runCli(
      f.args(`${ownWork}[ "$MAESTRO_STREAM_TITLE" = Alpha ] && rm -f .git\nexit 0\n`),
      f.repo,
      nested,
    );
    expect(r.code).toBe(1);
    expect(processesUnder(nested.XDG_CACHE_HOME)).toEqual([]);
    const st = await runCli(['status', '--json', '--repo', f.repo], f.repo, nested);
    const alpha = Object.values((JSON.parse(st.stdout) as StatusJson).streams)[0];
    expect(alpha?.error?.code).toBe('worktree-broken');
    expect(r.stdout + r.stderr).not.toMatch(stackTraceLine);
    expect(gitSync(f.repo, ['rev-parse', 'main'])).toBe(mainBefore);
    f.verify();
  });

  it('a smuggled ref: the integration branch is put back, the stream flagged tampered-ref', async () => {
    const f = fixture([
      { title: 'Alpha', files: ['a.ts'] },
      { title: 'Bravo', files: ['b.ts'] },
    ]);
    const script = `${ownWork}if [ "$MAESTRO_STREAM_TITLE" = Alpha ]; then echo evil > evil.txt; git add -A; git -c user.name=x -c user.email=x@x commit -qm smuggle; git update-ref "refs/heads/maestro/$MAESTRO_RUN_ID" HEAD; fi\n`;
    const r = await runCli(f.args(script, '--max-parallel', '1'), f.repo, env(f));
    expect(r.code).toBe(1);
    const s = await status(f);
    const [alpha, bravo] = Object.values(s.streams);
    expect(alpha?.status).toBe('failed');
    expect(['tampered-ref', 'out-of-scope']).toContain(alpha?.error?.code);
    expect(alpha?.warnings.join('\n')).toMatch(/tampered-ref/);
    expect(bravo?.status).toBe('merged');
    const files = gitSync(f.repo, ['ls-tree', '-r', '--name-only', s.integrationBranch]).split('\n');
    expect(files).toContain('b.ts');
    expect(files).not.toContain('evil.txt');
    expect(files).not.toContain('a.ts');
    f.verify();
  });

  it('a write into the user checkout fails the stream escaped-worktree, naming the path', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    const r = await runCli(f.args(`${ownWork}echo x > '${f.repo}/evil.txt'\n`), f.repo, env(f));
    expect(r.code).toBe(1);
    const alpha = Object.values((await status(f)).streams)[0];
    expect(alpha?.error?.code).toBe('escaped-worktree');
    expect(alpha?.error?.message).toContain('evil.txt');
    // Maestro never touches the user's checkout, not even to undo the escape: the user removes it.
    expect(readFileSync(path.join(f.repo, 'evil.txt'), 'utf8')).toBe('x\n');
    rmSync(path.join(f.repo, 'evil.txt'));
    f.verify();
  });

  it('--ownership warn only warns about the escape', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    const r = await runCli(
      f.args(`${ownWork}echo x > '${f.repo}/evil.txt'\n`, '--ownership', 'warn'),
      f.repo,
      env(f),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(Object.values((await status(f)).streams)[0]?.warnings.join('\n')).toMatch(
      /escaped-worktree.*evil\.txt/,
    );
    rmSync(path.join(f.repo, 'evil.txt'));
    f.verify();
  });

  it('a daemon holding the pipes: the run ends, the daemon is stopped and reported', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    const started = Date.now();
    const r = await runCli(f.args(`${ownWork}setsid sleep 1000 &\necho working\n`), f.repo, env(f));
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(Object.values((await status(f)).streams)[0]?.warnings.join('\n')).toMatch(
      /left 1 background process; stopped/,
    );
    f.verify();
  });

  it('background daemons (nohup, setsid with redirected output): none is left after the run', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    const script = `${ownWork}nohup sleep 1000 >/dev/null 2>&1 &\nsetsid sleep 1001 >/dev/null 2>&1 </dev/null &\necho $! > '${f.root}/daemon.pid'\n`;
    const r = await runCli(f.args(script), f.repo, env(f));
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(path.join(f.root, 'daemon.pid'), 'utf8'));
    expect(
      existsSync(`/proc/${String(pid)}`) &&
        !readFileSync(`/proc/${String(pid)}/stat`, 'utf8').includes(') Z'),
    ).toBe(false);
    expect(Object.values((await status(f)).streams)[0]?.warnings.join('\n')).toMatch(
      /left 2 background processes/,
    );
    f.verify();
  });

  it('a no-op agent that exits 0 fails with no-changes (exit 1), after a retry that says why', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    const script = `cat "$MAESTRO_PROMPT_FILE" >> '${f.root}/prompts.txt'\nexit 0\n`;
    const args = f.args(script).filter((a, i, all) => !(a === '--retries' || all[i - 1] === '--retries'));
    const r = await runCli([...args, '--retries', '1'], f.repo, env(f));
    expect(r.code).toBe(1);
    const alpha = Object.values((await status(f)).streams)[0];
    expect(alpha?.error?.code).toBe('no-changes');
    expect(readFileSync(path.join(f.root, 'prompts.txt'), 'utf8')).toMatch(/no-changes/);
    f.verify();
  });

  it('a phase that says it creates two files, one left missing: missing-files naming it (exit 1)', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts', 'a2.ts'] }]);
    const r = await runCli(f.args(ownWork), f.repo, env(f));
    expect(r.code).toBe(1);
    const alpha = Object.values((await status(f)).streams)[0];
    expect(alpha?.error?.code).toBe('missing-files');
    expect(alpha?.error?.message).toContain('did not create: a2.ts');
    f.verify();
  });

  it('branches and tags the agent creates in the user repository are reported, naming them', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    // The worktree shares the user's refs: a branch or tag made there is made in the user's repository.
    const script = `${ownWork}git branch sneaky-branch && git tag sneaky-tag\n`;
    const r = await runCli(f.args(script), f.repo, env(f));
    expect(r.code, r.stderr).toBe(0);
    const warnings = Object.values((await status(f)).streams)[0]?.warnings.join('\n') ?? '';
    expect(warnings).toMatch(
      /refs-changed: refs of your repository created, moved or deleted while the agent ran: refs\/heads\/sneaky-branch, refs\/tags\/sneaky-tag/,
    );
    expect(r.stdout).toContain('refs/heads/sneaky-branch');
    // Reported, never removed: they are in the user's repository.
    expect(gitSync(f.repo, ['tag', '--list', 'sneaky-tag'])).toBe('sneaky-tag');
    f.verify();
  });

  it('secrets: no key-shaped string anywhere Maestro writes; agents do not inherit other credentials', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    const all = Object.values(fakeSecrets);
    const script = `${ownWork}echo "tokens: ${all.join(' ')}"\necho "${fakeSecrets.aws}" >&2\nenv > '${f.root}/agent-env.txt'\nprintf 'report ${fakeSecrets.github}\\n' > "$MAESTRO_REPORT_FILE"\nexit 0\n`;
    const secretEnv = {
      ...env(f),
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY',
      GITHUB_TOKEN: 'github-token-value-123456',
      OPENAI_API_KEY: 'openai-key-value-abcdef',
    };
    const r = await runCli([...f.args(script), '--json'], f.repo, secretEnv);
    expect(r.code, r.stderr).toBe(0);
    const html = await runCli(['report', '--format', 'html', '--repo', f.repo], f.repo, secretEnv);
    const json = await runCli(['report', '--format', 'json', '--repo', f.repo], f.repo, secretEnv);
    const written: string[] = [r.stdout, r.stderr, html.stdout, json.stdout];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else written.push(readFileSync(p, 'utf8'));
      }
    };
    walk(path.join(f.repo, '.maestro'));
    const everything = written.join('\n');
    expect(everything).toContain('[redacted]');
    for (const secret of [...all.map((s) => s.replace(/^Bearer /, '')), ...Object.values(secretEnv).slice(1)])
      expect(everything).not.toContain(secret);
    const agentEnv = readFileSync(path.join(f.root, 'agent-env.txt'), 'utf8');
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'OPENAI_API_KEY'])
      expect(agentEnv).not.toContain(`${name}=`);
    f.verify();
  });

  it('SIGTERM to maestro behaves like Ctrl-C: agents stopped, state saved, exit 130', async () => {
    const f = fixture([{ title: 'Alpha', files: ['a.ts'] }]);
    const cli = startCli(f.args(`touch '${f.root}/agent-started'\nexec sleep 1000\n`), f.repo, env(f));
    await cli.waitFor(/Alpha|s1/);
    while (!existsSync(path.join(f.root, 'agent-started'))) await new Promise((r) => setTimeout(r, 20));
    cli.child.kill('SIGTERM');
    const r = await cli.exited;
    expect(r.code).toBe(130);
    expect(Object.values((await status(f)).streams)[0]?.status).toBe('interrupted');
    f.verify();
  });
});
