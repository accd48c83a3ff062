/**
 * The live view in a real pseudo-terminal (tmux): the built CLI runs a plan with stand-in agents that
 * wait for a release file, so the screen can be captured mid-run; then `--review` answered with keys,
 * and `status --watch` from a second window.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processesUnder } from '../../src/run/orphans.js';
import { cliPath, runCli, waitUntil } from '../helpers/cli.js';
import { planMarkdown } from '../helpers/plan.js';
import { gitIdentityEnv, gitSync, initRepo, makeTempDir } from '../helpers/repo.js';
import { hasTmux, shellQuote, Tmux } from '../helpers/tmux.js';

/** Prints what it edits, waits for `$RELEASE_DIR/all` or `$RELEASE_DIR/<stream>`, writes its files. */
const agentScript = String.raw`
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const id = process.env.MAESTRO_STREAM_ID;
const files = process.env.MAESTRO_FILES.split('\n').filter(Boolean);
const release = process.env.RELEASE_DIR;
console.log('editing ' + files[0]);
while (!existsSync(path.join(release, 'all')) && !existsSync(path.join(release, id)))
  await new Promise((r) => setTimeout(r, 20));
for (const f of files) { mkdirSync(path.dirname(f), { recursive: true }); writeFileSync(f, '// ' + id + '\n'); }
writeFileSync(process.env.MAESTRO_REPORT_FILE, 'built ' + files.join(', ') + '\n');
`;

const phases = [
  { title: 'Database migration', files: ['db/migrate.sql'] },
  { title: 'Models and schemas', files: ['app/models.py'] },
  { title: 'REST API', deps: [1], files: ['app/api.py'] },
];

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Fixture {
  readonly repo: string;
  readonly plan: string;
  readonly release: (name: string) => void;
  readonly tmux: Tmux;
  /** A shell command line running the built CLI in the repo with the test's environment. */
  readonly maestro: (args: readonly string[]) => string;
}

function fixture(plan: readonly { title: string; files: string[]; deps?: number[] }[]): Fixture {
  const tmp = makeTempDir('maestro-tmux-');
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo);
  const planFile = path.join(tmp.dir, 'plan.md');
  writeFileSync(planFile, planMarkdown('Live plan', plan));
  const agent = path.join(tmp.dir, 'agent.mjs');
  writeFileSync(agent, agentScript);
  const releaseDir = path.join(tmp.dir, 'release');
  mkdirSync(releaseDir);
  const release = (name: string) => {
    writeFileSync(path.join(releaseDir, name), '');
  };
  const tmux = new Tmux(path.join(tmp.dir, 'tmux.sock'));
  cleanups.push(tmp.cleanup);
  cleanups.push(async () => {
    // Let waiting agents finish, then end tmux and everything in it; nothing may be left running.
    release('all');
    await waitUntil(() => processesUnder(repo).length === 0, 20_000).catch(() => undefined);
    tmux.kill();
    expect(processesUnder(repo)).toEqual([]);
  });
  // CI is unset: the live view is off under CI, and .ci/run exports CI=1.
  const env = Object.entries({ ...gitIdentityEnv, RELEASE_DIR: releaseDir, TERM: 'xterm-256color' })
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  const maestro = (args: readonly string[]) =>
    `cd ${shellQuote(repo)} && env -u CI -u NO_COLOR ${env} ${shellQuote(process.execPath)} ${shellQuote(cliPath)} ${args.map(shellQuote).join(' ')}`;
  const runArgs = ['run', planFile, '--agent', 'command', '--agent-command', `node ${shellQuote(agent)}`];
  return {
    repo,
    plan: planFile,
    release,
    tmux,
    maestro: (args) => maestro(args[0] === 'run' ? [...runArgs, ...args.slice(1)] : args),
  };
}

/** Lines of a screen that are a live-view header. */
const headers = (screen: string) =>
  screen.split('\n').filter((l) => /^maestro \S+ .*\d+\/\d+ merged/.test(l));

// Skipped only off CI when tmux is missing; .ci/run installs it, so in CI a missing tmux fails.
describe.skipIf(!hasTmux() && process.env.CI === undefined)('live view in a terminal (tmux)', () => {
  it('shows a header and one line per running agent, finished streams above, then the summary; status --watch shows the same', async () => {
    const f = fixture(phases);
    f.tmux.start(f.maestro(['run', '--yes']), 100, 30);

    await f.tmux.waitForScreen(/0\/3 merged · 2 running/);
    let screen = await f.tmux.waitForScreen(
      /s1 .*editing db\/migrate\.sql[\s\S]*s2 .*editing app\/models\.py/,
    );
    expect(headers(screen)).toHaveLength(1);
    expect(screen).toMatch(/^ \S s1\s+migration\s+\d+s\s+editing db\/migrate\.sql$/m);
    expect(screen).toMatch(/^ \S s2\s+models\s+\d+s\s+editing app\/models\.py$/m);
    expect(screen).not.toMatch(/^ \S s3 /m);
    expect(f.tmux.cursorVisible()).toBe(false);

    // A second terminal follows the same run from its journal.
    const watch = f.tmux.newWindow(f.maestro(['status', '--watch']));
    const watched = await f.tmux.waitForScreen(/s1 .*editing db\/migrate\.sql[\s\S]*s2 .*editing/, watch);
    expect(headers(watched)[0]).toMatch(/0\/3 merged · 2 running/);

    f.release('s1');
    screen = await f.tmux.waitForScreen(/s3 .*editing app\/api\.py/);
    expect(screen).toMatch(/^✓ s1 {2}merged {2}\d+s {2}1 file {2}Database migration$/m);
    expect(headers(screen)[0]).toMatch(/1\/3 merged · 2 running/);
    await f.tmux.waitForScreen(/✓ s1 {2}merged[\s\S]*s3 .*editing app\/api\.py/, watch);

    f.release('all');
    screen = await f.tmux.waitForScreen(/\[exit \d+\]/);
    expect(screen).toContain('[exit 0]');
    const all = f.tmux.history();
    for (const id of ['s1', 's2', 's3'])
      expect(all.split('\n').filter((l) => l.startsWith(`✓ ${id}  merged`))).toHaveLength(1);
    expect(headers(all)).toHaveLength(0); // the window is erased, not left behind
    expect(all).toMatch(/Run \S+: completed/);
    expect(all).toMatch(/Take the result: git switch main && git merge --ff-only maestro\//);
    expect(f.tmux.cursorVisible()).toBe(true);

    const watchEnd = await f.tmux.waitForScreen(/\[exit \d+\]/, watch);
    expect(watchEnd).toContain('[exit 0]');
    expect(watchEnd).toMatch(/Run \S+: completed/);
    expect(
      f.tmux
        .history(watch)
        .split('\n')
        .filter((l) => l.startsWith('✓ s3  merged')),
    ).toHaveLength(1);
  });

  it('--review: shows the diff stat, the full diff on request, and merges or skips as answered', async () => {
    const f = fixture(phases);
    f.release('all');
    f.tmux.start(f.maestro(['run', '--yes', '--review']), 100, 40);
    const answered = new Set<string>();
    while (answered.size < 2) {
      const screen = await f.tmux.waitForScreen(
        new RegExp(`Merge (?!${[...answered].join('|') || '-'})(s\\d) into the integration branch`),
      );
      const id = /Merge (s\d) into the integration branch/.exec(
        screen
          .split('\n')
          .filter((l) => /Merge s\d/.test(l))
          .at(-1) ?? '',
      )?.[1];
      if (id === 's1') {
        expect(screen).toMatch(/db\/migrate\.sql \| 1 \+/);
        f.tmux.sendKeys(0, 'Down', 'Down', 'Enter'); // show the full diff
        await f.tmux.waitForScreen(/\+\/\/ s1[\s\S]*Merge s1 into the integration branch/);
        f.tmux.sendKeys(0, 'Enter'); // approve
      } else if (id === 's2') {
        expect(screen).toMatch(/app\/models\.py \| 1 \+/);
        f.tmux.sendKeys(0, 'Down', 'Enter'); // skip
      } else {
        throw new Error(`unexpected review prompt:\n${screen}`);
      }
      answered.add(id);
      await f.tmux.waitForScreen(new RegExp(`(✓ ${id}  merged|– ${id}  skipped)`));
    }
    // s3 depends on s1 (approved), so it runs and is reviewed too.
    await f.tmux.waitForScreen(/Merge s3 into the integration branch/);
    f.tmux.sendKeys(0, 'Enter');
    const screen = await f.tmux.waitForScreen(/\[exit \d+\]/);
    expect(screen).toContain('[exit 1]'); // a skipped stream: the run is not completed
    const all = f.tmux.history();
    expect(all).toMatch(/– s2 {2}skipped: skipped in review/);
    expect(all).toMatch(/^✓ s1 {2}merged/m);
    expect(all).toMatch(/^✓ s3 {2}merged/m);
    const runId = /Run (\S+):/.exec(all)?.[1] ?? 'missing';
    const merged = gitSync(f.repo, ['ls-tree', '-r', '--name-only', `maestro/${runId}`]);
    expect(merged.split('\n').sort()).toEqual(['README.md', 'app/api.py', 'db/migrate.sql']);
  });
});

describe('--review without a terminal', () => {
  it('is a usage error that says why', async () => {
    const tmp = makeTempDir('maestro-review-');
    cleanups.push(tmp.cleanup);
    const repo = path.join(tmp.dir, 'repo');
    initRepo(repo);
    writeFileSync(path.join(tmp.dir, 'plan.md'), planMarkdown('P', phases));
    const r = await runCli(
      [
        'run',
        path.join(tmp.dir, 'plan.md'),
        '--agent',
        'command',
        '--agent-command',
        'true',
        '--yes',
        '--review',
      ],
      repo,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--review .* needs an interactive terminal/);
  });
});
