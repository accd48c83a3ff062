/**
 * End to end with a real npm project (a registry dependency installed by the test): every worktree
 * gets the project's dependencies and `.worktreeinclude` files, setup runs per recycled slot rather
 * than per stream, agents get their own ports, and nothing they do reaches the user's checkout.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRunArgs, runCli } from '../helpers/cli.js';
import { planMarkdown } from '../helpers/plan.js';
import { latestJournal, makeNpmProject, packageCacheEnv, treeDigest } from '../helpers/projects.js';
import { gitSync, makeTempDir } from '../helpers/repo.js';

/** A stand-in agent that uses the project as a developer's tool would. */
const agentScript = String.raw`
import { createRequire } from 'node:module';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
const here = path.dirname(new URL(import.meta.url).pathname);
const id = process.env.MAESTRO_STREAM_ID;
const cwd = process.cwd();
if (process.env.INSTALL_IN === id)
  execFileSync('npm', ['install', '--save', '--prefer-offline', '--no-audit', '--no-fund', 'is-odd@3.0.1'], { stdio: 'ignore' });
const require = createRequire(path.join(cwd, 'index.js'));
const resolved = require.resolve('is-number');
const isNumber = require('is-number');
const env = readFileSync('.env', 'utf8');
const port = Number(process.env.MAESTRO_PORT);
// Held while the agent works: two agents given the same port at once would fail here.
const server = createServer();
await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
// Dependencies are the worktree's own: editing them must not reach the user's node_modules.
appendFileSync(path.join(cwd, 'node_modules', 'is-number', 'index.js'), '\n// edited by ' + id + '\n');
const uses = process.env.INSTALL_IN === id ? 'is-odd' : 'is-number';
for (const f of process.env.MAESTRO_FILES.split('\n').filter(Boolean)) {
  if (f === 'package.json') continue;
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, "if (!require('" + uses + "')(" + (uses === 'is-odd' ? 3 : 7) + ")) throw new Error('broken');\nmodule.exports = '" + id + "';\n");
}
appendFileSync(path.join(here, 'agents.jsonl'), JSON.stringify({ id, cwd, resolved, env, port, ok: isNumber(7) }) + '\n');
writeFileSync(process.env.MAESTRO_REPORT_FILE, 'done ' + id + '\n');
server.close();
`;

interface AgentRecord {
  readonly id: string;
  readonly cwd: string;
  readonly resolved: string;
  readonly env: string;
  readonly port: number;
  readonly ok: boolean;
}

const tmp = makeTempDir('maestro-npm-');
let repo = '';
let agent = '';
let plan = '';
let userModules = '';

beforeAll(() => {
  repo = path.join(tmp.dir, 'repo');
  makeNpmProject(repo);
  userModules = treeDigest(path.join(repo, 'node_modules'));
  agent = path.join(tmp.dir, 'agent.mjs');
  writeFileSync(agent, agentScript);
  plan = path.join(tmp.dir, 'plan.md');
  writeFileSync(
    plan,
    planMarkdown(
      'Twelve modules',
      Array.from({ length: 12 }, (_, i) => ({
        title: `Module ${String(i + 1)}`,
        files: [`src/m${String(i + 1)}.js`],
      })),
    ),
  );
}, 300_000);

afterAll(() => {
  tmp.cleanup();
});

function agentRecords(): AgentRecord[] {
  const file = path.join(tmp.dir, 'agents.jsonl');
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  writeFileSync(file, '');
  return lines.map((l) => JSON.parse(l) as AgentRecord);
}

/** Runs the 12-stream plan at --max-parallel 3 with an `npm test` gate and checks what every run must show. */
async function runTwelve(extra: readonly string[]): Promise<void> {
  const r = await runCli(
    [
      ...commandRunArgs(plan, repo, `node ${agent}`),
      '--max-parallel',
      '3',
      '--validate',
      'npm test',
      ...extra,
    ],
    repo,
    packageCacheEnv,
  );
  expect(r.code, r.stderr + r.stdout).toBe(0);
  const events = latestJournal(repo);
  expect(events.filter((e) => e.type === 'stream-merged')).toHaveLength(12);

  // Agents imported the dependency from their own worktree's node_modules and read the user's .env.
  const agents = agentRecords();
  expect(agents).toHaveLength(12);
  for (const a of agents) {
    expect(a.ok).toBe(true);
    expect(a.resolved.startsWith(path.join(a.cwd, 'node_modules') + path.sep), a.resolved).toBe(true);
    expect(a.cwd.startsWith(repo + path.sep)).toBe(false);
    expect(a.env).toBe('API_KEY=from-the-user\n');
  }

  // Setup cost follows --max-parallel, not the number of streams.
  const setups = events.filter((e) => e.type === 'setup-started');
  expect(setups.length).toBeGreaterThanOrEqual(2);
  expect(setups.length).toBeLessThanOrEqual(3 + 2);
  expect(events.filter((e) => e.type === 'setup-finished' && e.ok !== true)).toEqual([]);

  // One port block per slot: the same worktree always has the same port, no two share one, and the
  // gates' block (the first) is nobody's.
  const started = events.filter((e) => e.type === 'stream-started');
  const portOf = new Map<string, number>();
  for (const e of started) {
    const known = portOf.get(String(e.worktree));
    if (known !== undefined) expect(e.port).toBe(known);
    portOf.set(String(e.worktree), Number(e.port));
  }
  expect(new Set(portOf.values()).size).toBe(portOf.size);
  expect(portOf.size).toBeLessThanOrEqual(3);
  const base = Number(events.find((e) => e.type === 'ports-reserved')?.base);
  expect([...portOf.values()]).not.toContain(base);
  for (const a of agents) expect(portOf.get(a.cwd)).toBe(a.port);

  // The user's checkout: node_modules byte-identical, .env untouched, and no worktree for find or jest.
  expect(treeDigest(path.join(repo, 'node_modules'))).toBe(userModules);
  expect(readFileSync(path.join(repo, '.env'), 'utf8')).toBe('API_KEY=from-the-user\n');
  const find = (args: readonly string[]) =>
    execFileSync('find', [repo, ...args], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
  expect(find(['-name', '.git'])).toEqual([path.join(repo, '.git')]);
  // What jest's haste map walks: every package.json outside node_modules.
  expect(find(['-name', 'package.json', '-not', '-path', '*/node_modules/*'])).toEqual([
    path.join(repo, 'package.json'),
  ]);
  expect(gitSync(repo, ['status', '--porcelain'])).toBe('');
}

describe('worktrees that run: an npm project', () => {
  it('12 streams at --max-parallel 3 with --setup: dependencies, .env and ports in every worktree', async () => {
    await runTwelve(['--setup', 'npm ci --prefer-offline --no-audit --no-fund']);
    const setups = latestJournal(repo).filter((e) => e.type === 'setup-started');
    expect(setups[0]?.commands).toEqual(['npm ci --prefer-offline --no-audit --no-fund']);
  }, 600_000);

  it('the same with nothing configured: npm ci detected from package-lock.json', async () => {
    await runTwelve([]);
    const setups = latestJournal(repo).filter((e) => e.type === 'setup-started');
    expect(String((setups[0]?.commands as string[])[0])).toMatch(/^npm ci /);
  }, 600_000);

  it('a stream that runs npm install --save lands with its lockfile, and the gate after it has the dependency', async () => {
    const installPlan = path.join(tmp.dir, 'install-plan.md');
    writeFileSync(
      installPlan,
      planMarkdown('Add a dependency', [
        { title: 'Odd numbers', files: ['package.json', 'src/odd.js'] },
        { title: 'Uses odd', deps: [1], files: ['src/uses-odd.js'] },
      ]),
    );
    const r = await runCli(
      [...commandRunArgs(installPlan, repo, `node ${agent}`), '--validate', 'npm test'],
      repo,
      { ...packageCacheEnv, INSTALL_IN: 's1' },
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const events = latestJournal(repo);
    const committed = events.find((e) => e.type === 'stream-committed' && e.streamId === 's1');
    expect(committed?.changedFiles).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    expect(events.filter((e) => e.type === 'ownership-violation')).toEqual([]);
    expect(events.filter((e) => e.type === 'stream-merged')).toHaveLength(2);
    // The integration worktree set up again after the merge changed the lockfile, before its gate.
    const merged = events.findIndex((e) => e.type === 'stream-merged' && e.streamId === 's1');
    const integrationSetups = events
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.type === 'setup-started' && e.streamId === null);
    expect(integrationSetups.some(({ i }) => i > merged)).toBe(true);
    // The gate left no trace: package-lock.json was not rewritten in the integration worktree.
    expect(events.filter((e) => e.type === 'worktree-restored')).toEqual([]);
    const branch = String(events.find((e) => e.type === 'run-started')?.integrationBranch);
    const pkg = JSON.parse(gitSync(repo, ['show', `${branch}:package.json`])) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).toContain('is-odd');
    expect(gitSync(repo, ['show', `${branch}:package-lock.json`])).toContain('node_modules/is-odd');
    expect(treeDigest(path.join(repo, 'node_modules'))).toBe(userModules);
    agentRecords();
  }, 600_000);
});
