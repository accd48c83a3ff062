/**
 * Shared set-up for the end-to-end agent tests: a temp git repo with a plan, an isolated HOME for the real
 * agent CLI (pointed at a loopback stand-in of its model API), and readers for what a run left behind.
 * The stand-ins find each stream's files in Maestro's prompt and its worktree under the run directory.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { processesUnder } from '../../src/run/orphans.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { dirtyUserCheckout, initRepo, makeTempDir } from '../helpers/repo.js';
import { startAnthropicStandin, type AnthropicScript } from '../standins/anthropic.js';
import { binDir, claudeStandinEnv } from '../standins/env.js';
import type { Standin } from '../standins/http.js';

/** A temp repository with a plan, and an isolated environment for the agent CLIs. */
export interface AgentFixture {
  readonly root: string;
  readonly repo: string;
  readonly plan: string;
  readonly home: string;
  /** Environment for `maestro`: isolated HOME, CLAUDE_CONFIG_DIR, CODEX_HOME, TMPDIR; the agent CLIs' bin folder first on PATH. */
  readonly env: Record<string, string>;
  /** Throws if the user's checkout changed. */
  readonly verifyCheckout: () => void;
  readonly cleanup: () => void;
}

/** Makes a fixture whose plan is `planText` (written into the repo, as a user keeps one), plus `files`. */
export function makeAgentFixture(planText: string, files: Record<string, string> = {}): AgentFixture {
  const tmp = makeTempDir('maestro-e2e-agents-');
  const root = tmp.dir;
  const repo = path.join(root, 'repo');
  initRepo(repo, { 'README.md': '# service\n', 'docs/architecture.md': '# Architecture\n' });
  const plan = path.join(repo, 'plan.md');
  writeFileSync(plan, planText);
  for (const [rel, text] of Object.entries(files)) writeFileSync(path.join(repo, rel), text);
  const verifyCheckout = dirtyUserCheckout(repo);
  const home = path.join(root, 'home');
  const tmpDir = path.join(root, 'tmp');
  mkdirSync(home, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    CLAUDE_CONFIG_DIR: path.join(home, '.claude'),
    CODEX_HOME: path.join(home, '.codex'),
    TMPDIR: tmpDir,
    PATH: `${binDir}${path.delimiter}${process.env['PATH'] ?? ''}`,
    NO_PROXY: '127.0.0.1,localhost',
    HTTPS_PROXY: '',
    HTTP_PROXY: '',
    https_proxy: '',
    http_proxy: '',
    CI: '1',
  };
  return {
    root,
    repo,
    plan,
    home,
    env,
    verifyCheckout,
    cleanup: () => {
      // No agent may outlive the run: nothing may still run in the repository's worktrees.
      expect(processesUnder(repo)).toEqual([]);
      tmp.cleanup();
    },
  };
}

/** A fixture with the Anthropic stand-in running beside it, and the environment that points Claude Code at it. */
export interface ClaudeFixture {
  readonly fixture: AgentFixture;
  readonly api: Standin & { turns: () => number };
  /** For `maestro` (beside the fixture's own): the stand-in's URL, a dummy key, no retries to speak of. */
  readonly env: Record<string, string>;
}

/**
 * `makeAgentFixture(planText, files)` and the Anthropic stand-in answering by `script` (given the
 * fixture, as the stand-in's replies name paths in its worktrees); `cleanups` gets both removals.
 */
export async function claudeFixture(
  cleanups: (() => void | Promise<void>)[],
  planText: string,
  script: (fixture: () => AgentFixture) => AnthropicScript,
  files: Record<string, string> = {},
): Promise<ClaudeFixture> {
  const fixture = makeAgentFixture(planText, files);
  cleanups.push(fixture.cleanup);
  const api = await startAnthropicStandin(script(() => fixture));
  cleanups.push(api.close);
  return { fixture, api, env: claudeStandinEnv(api.url) };
}

/** Runs `maestro ARGS` in the fixture's repo with its environment. */
export function maestro(
  fixture: AgentFixture,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(args, fixture.repo, { ...fixture.env, ...env });
}

/** The stream a Maestro prompt is for, and the files it owns (from "## Files you own"). */
export function parsePrompt(text: string): { streamId: string; files: string[] } | null {
  const stream = /You work on stream (\S+) \(phase/.exec(text)?.[1];
  if (stream === undefined) return null;
  const section = text.split('## Files you own')[1]?.split('\n## ')[0] ?? '';
  const files = [...section.matchAll(/^- `([^`]+)`/gm)].map((m) => m[1] ?? '');
  return { streamId: stream, files };
}

/** The latest run's directory. */
export function latestRunDir(repo: string): string {
  const runs = readdirSync(path.join(repo, '.maestro', 'runs')).sort();
  const latest = runs.at(-1);
  if (latest === undefined) throw new Error('no run');
  return path.join(repo, '.maestro', 'runs', latest);
}

/** Where Maestro put a stream's worktree in the latest run: the journal's last start of the stream says. */
export function worktreeOf(repo: string, streamId: string): string {
  const lines = readFileSync(path.join(latestRunDir(repo), 'events.jsonl'), 'utf8').split('\n');
  let found: string | null = null;
  for (const line of lines) {
    if (line === '') continue;
    const event = JSON.parse(line) as { type: string; streamId?: string; worktree?: string };
    if (event.type === 'stream-started' && event.streamId === streamId && event.worktree !== undefined)
      found = event.worktree;
  }
  if (found === null) throw new Error(`no stream-started event for ${streamId}`);
  return found;
}

/** The content the stand-ins write into an owned file. */
export function contentFor(file: string, streamId: string): string {
  return `# ${file}: written for ${streamId} by the stand-in model\n`;
}

interface UsageJson {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  costSource: string;
}

/** The latest run's state.json. */
export interface StateJson {
  status: string;
  integrationBranch: string;
  costUsd: number;
  streams: Record<
    string,
    { status: string; usage: UsageJson | null; error: { code: string; message: string } | null }
  >;
}

export function readState(repo: string): StateJson {
  return JSON.parse(readFileSync(path.join(latestRunDir(repo), 'state.json'), 'utf8')) as StateJson;
}

/** The JSON lines of a stream's agent log (every attempt) that parse. */
export function agentLogEvents(repo: string, streamId: string): Record<string, unknown>[] {
  const file = path.join(latestRunDir(repo), 'streams', streamId, 'agent.log');
  if (!existsSync(file)) return [];
  const events: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // stderr or partial lines
    }
  }
  return events;
}

/** The summary's "$…" rendering of a cost (must match `formatUsd` in src/run/summary.ts). */
export function usd(cost: number): string {
  return `$${cost >= 100 ? cost.toFixed(2) : cost >= 1 ? cost.toFixed(3) : cost.toFixed(4)}`;
}

/** The summary's table row of a stream. */
export function summaryRow(stdout: string, streamId: string): string {
  const row = stdout.split('\n').find((line) => new RegExp(`^\\s+${streamId}\\s+\\w+\\s+`).test(line));
  if (row === undefined) throw new Error(`no summary row for ${streamId} in:\n${stdout}`);
  return row;
}
