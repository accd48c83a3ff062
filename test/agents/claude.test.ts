/**
 * The real Claude Code CLI (pinned devDependency) against a loopback stand-in of the Anthropic API:
 * real file writes in a temp git repo, real stream-json parsing, real failure shapes. No network.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBuiltinPrices, priceUsage } from '../../src/analyze/prices.js';
import { claudeBackend, type ClaudeOptions } from '../../src/agents/claude.js';
import type { RunAgentOptions } from '../../src/agents/process.js';
import type { AgentTask } from '../../src/agents/types.js';
import { startAnthropicStandin, type AnthropicReply, type AnthropicScript } from '../standins/anthropic.js';
import { binDir, claudeStandinEnv, isolatedEnv, makeSandbox, type Sandbox } from '../standins/env.js';
import { runLogged, sandboxTask, writeScript, type SandboxRun } from './helpers.js';

const MODEL = 'claude-sonnet-5-5';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Run extends SandboxRun {
  resultEvent: Record<string, unknown> | undefined;
}

async function runClaude(
  script: AnthropicScript,
  opts: {
    task?: Partial<AgentTask>;
    claude?: ClaudeOptions;
    run?: RunAgentOptions;
    env?: Record<string, string>;
    sandbox?: Sandbox;
    apiKey?: boolean;
  } = {},
): Promise<Run> {
  const sandbox =
    opts.sandbox ??
    (await makeSandbox({ 'README.md': '# demo\n', 'src/existing.ts': 'export const a = 1;\n' }));
  if (opts.sandbox === undefined) cleanups.push(sandbox.cleanup);
  const api = await startAnthropicStandin(script);
  cleanups.push(api.close);
  const env: Record<string, string> = {
    ...isolatedEnv(sandbox),
    CLAUDE_CONFIG_DIR: join(sandbox.home, '.claude'),
    ...claudeStandinEnv(api.url),
    ...(opts.apiKey === false ? { ANTHROPIC_API_KEY: '' } : {}),
    ...opts.env,
  };
  const task = sandboxTask(sandbox, { model: MODEL, files: ['src/api.ts', 'src/existing.ts'], ...opts.task });
  const backend = claudeBackend({ executable: join(binDir, 'claude'), env, ...opts.claude });
  const { outcome, activities, log } = await runLogged(
    backend,
    task,
    sandbox.runDir,
    { timeoutMs: 60_000, graceMs: 1_000 },
    opts.run,
  );
  const resultLine = log.split('\n').find((line) => line.startsWith('{') && line.includes('"type":"result"'));
  const resultEvent =
    resultLine === undefined ? undefined : (JSON.parse(resultLine) as Record<string, unknown>);
  return { outcome, activities, sandbox, api, log, resultEvent };
}

const write = (sandbox: () => Sandbox, path: string, content: string): AnthropicReply => ({
  kind: 'message',
  content: [
    { type: 'text', text: `Writing ${path}.` },
    { type: 'tool_use', name: 'Write', input: { file_path: join(sandbox().worktree, path), content } },
  ],
});
const done = (
  text: string,
  usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number },
): AnthropicReply => ({
  kind: 'message',
  content: [{ type: 'text', text }],
  ...(usage === undefined ? {} : { usage }),
});

describe('claude backend against the real Claude Code CLI', () => {
  it("writes and edits the stream files, runs an allowed validation command, and reports the CLI's cost", async () => {
    const sandbox = await makeSandbox({
      'README.md': '# demo\n',
      'src/existing.ts': 'export const a = 1;\n',
    });
    cleanups.push(sandbox.cleanup);
    const sb = sandbox;
    const script: AnthropicScript = (n) => {
      switch (n) {
        case 0:
          return write(() => sandbox, 'src/api.ts', 'export const api = 1;\n');
        case 1:
          return {
            kind: 'message',
            content: [
              {
                type: 'tool_use',
                name: 'Read',
                input: { file_path: join(sandbox.worktree, 'src/existing.ts') },
              },
            ],
            usage: { input: 1200, output: 40, cacheRead: 500, cacheWrite: 300 },
          };
        case 2:
          return {
            kind: 'message',
            content: [
              {
                type: 'tool_use',
                name: 'Edit',
                input: {
                  file_path: join(sandbox.worktree, 'src/existing.ts'),
                  old_string: 'a = 1',
                  new_string: 'a = 2',
                },
              },
            ],
          };
        case 3:
          return {
            kind: 'message',
            content: [{ type: 'tool_use', name: 'Bash', input: { command: 'git status --short' } }],
          };
        default:
          return done('API layer done: src/api.ts created, src/existing.ts updated.', {
            input: 3000,
            output: 250,
          });
      }
    };
    const { outcome, activities, resultEvent, api } = await runClaude(script, {
      sandbox: sb,
      task: { validationCommands: ['git status'] },
    });
    expect(outcome).toMatchObject({
      ok: true,
      report: 'API layer done: src/api.ts created, src/existing.ts updated.',
    });
    expect(await readFile(join(sandbox.worktree, 'src/api.ts'), 'utf8')).toBe('export const api = 1;\n');
    expect(await readFile(join(sandbox.worktree, 'src/existing.ts'), 'utf8')).toBe('export const a = 2;\n');
    expect(activities).toContainEqual({ kind: 'edit', path: 'src/api.ts' });
    expect(activities).toContainEqual({ kind: 'edit', path: 'src/existing.ts' });
    expect(activities).toContainEqual({ kind: 'command', command: 'git status --short' });
    // The Bash call was allowed by Bash(git status:*): its tool_result carries git's output, not a denial.
    const bashResult = JSON.stringify(api.requests.at(-1)?.body);
    expect(bashResult).toContain('src/api.ts');
    expect(resultEvent).toBeDefined();
    // Cost and tokens are the CLI's own totals…
    expect(outcome.usage.costSource).toBe('reported');
    expect(outcome.usage.costUsd).toBe(resultEvent?.['total_cost_usd']);
    const modelUsage = (resultEvent?.['modelUsage'] as Record<string, Record<string, number>>)[MODEL];
    expect(outcome.usage).toMatchObject({
      inputTokens: modelUsage?.['inputTokens'],
      outputTokens: modelUsage?.['outputTokens'],
      cacheReadTokens: modelUsage?.['cacheReadInputTokens'],
      cacheWriteTokens: modelUsage?.['cacheCreationInputTokens'],
    });
    // …and they agree with Maestro's price table.
    const priced = priceUsage(MODEL, outcome.usage, await loadBuiltinPrices());
    expect(priced).not.toBeNull();
    expect(outcome.usage.costUsd).toBeCloseTo(priced ?? -1, 10);
    expect(outcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes the role instructions as an appended system prompt and the prompt on stdin', async () => {
    const { outcome, api } = await runClaude(() => done('ok'), {
      task: { roleInstructions: 'ROLE-MARKER: you are the API engineer.', prompt: 'PROMPT-MARKER build it' },
    });
    expect(outcome.ok).toBe(true);
    const body = JSON.stringify(api.requests[0]?.body);
    expect(body).toContain('ROLE-MARKER');
    expect(body).toContain('PROMPT-MARKER');
  });

  it('prefers the report file the agent wrote', async () => {
    const sb = await makeSandbox();
    cleanups.push(sb.cleanup);
    const sandbox = sb;
    const { outcome } = await runClaude(
      (n) =>
        n === 0
          ? {
              kind: 'message',
              content: [
                {
                  type: 'tool_use',
                  name: 'Write',
                  input: { file_path: join(sb.runDir, 'report.md'), content: '# Report\nAll good.\n' },
                },
              ],
            }
          : done('finished'),
      { sandbox, claude: { extraArgs: ['--add-dir', sb.runDir] } },
    );
    expect(outcome).toMatchObject({ ok: true, report: '# Report\nAll good.' });
  });

  it('lets an out-of-scope write happen (the engine checks ownership) and still succeeds', async () => {
    const sandbox = await makeSandbox();
    cleanups.push(sandbox.cleanup);
    const { outcome } = await runClaude(
      (n) => (n === 0 ? write(() => sandbox, 'other/stray.ts', 'x\n') : done('done')),
      {
        sandbox,
      },
    );
    expect(outcome.ok).toBe(true);
    expect(await readFile(join(sandbox.worktree, 'other/stray.ts'), 'utf8')).toBe('x\n');
  });

  it('reports an API 400 as an api-error without retrying', async () => {
    const { outcome, api } = await runClaude(() => ({
      kind: 'error',
      status: 400,
      message: 'prompt is too long',
    }));
    expect(outcome).toMatchObject({ ok: false, code: 'api-error' });
    if (!outcome.ok) expect(outcome.message).toMatch(/400|prompt is too long/);
    expect(api.turns()).toBe(1);
  });

  it('reports a retry storm cut by the stall timeout as such, not as a hang', async () => {
    const { outcome, activities } = await runClaude(
      () => ({ kind: 'error', status: 529, message: 'Overloaded' }),
      {
        env: { CLAUDE_CODE_MAX_RETRIES: '50' },
        run: { stallMs: 4_000, graceMs: 1_000 },
      },
    );
    expect(activities.some((a) => a.kind === 'retry')).toBe(true);
    expect(outcome).toMatchObject({ ok: false, code: 'retry-storm' });
    if (!outcome.ok) expect(outcome.message).toMatch(/retried \d+ times, last HTTP 529/);
  });

  it('reports the turn limit', async () => {
    const sandbox = await makeSandbox();
    cleanups.push(sandbox.cleanup);
    const { outcome } = await runClaude(
      (n) => write(() => sandbox, `src/f${n}.ts`, `export const n = ${n};\n`),
      {
        sandbox,
        claude: { maxTurns: 2 },
      },
    );
    expect(outcome).toMatchObject({ ok: false, code: 'max-turns' });
    if (!outcome.ok) expect(outcome.message).toContain('maximum number of turns');
  });

  it('reports a budget stop with the money spent', async () => {
    const sandbox = await makeSandbox();
    cleanups.push(sandbox.cleanup);
    const expensive = { input: 200_000, output: 1_000 };
    const { outcome } = await runClaude(
      (n) => ({ ...write(() => sandbox, `src/f${n}.ts`, `export const n = ${n};\n`), usage: expensive }),
      { sandbox, task: { budgetUsd: 0.5 } },
    );
    expect(outcome).toMatchObject({ ok: false, code: 'budget', usage: { costSource: 'reported' } });
    expect(outcome.usage.costUsd).toBeGreaterThan(0.5);
  });

  it('reports a missing binary with how to install it', async () => {
    const { outcome } = await runClaude(() => done('never'), {
      claude: { executable: '/nonexistent/bin/claude' },
    });
    expect(outcome).toMatchObject({ ok: false, code: 'missing-binary' });
    if (!outcome.ok) expect(outcome.message).toContain('npm install -g @anthropic-ai/claude-code');
  });

  it('reports "not logged in" when there are no credentials', async () => {
    const { outcome, api } = await runClaude(() => done('never'), { apiKey: false });
    expect(outcome).toMatchObject({ ok: false, code: 'not-logged-in' });
    expect(api.turns()).toBe(0);
  });

  it('tolerates garbage lines in the stream', async () => {
    const sandbox = await makeSandbox();
    cleanups.push(sandbox.cleanup);
    const wrapper = join(sandbox.root, 'claude-noisy');
    await writeScript(
      wrapper,
      `echo 'not json at all'\necho '{"truncated": '\nprintf '\\033[31mcolour\\033[0m\\n'\nexec ${join(binDir, 'claude')} "$@"\n`,
    );
    const { outcome, activities } = await runClaude(
      (n) => (n === 0 ? write(() => sandbox, 'src/api.ts', 'ok\n') : done('done')),
      {
        sandbox,
        claude: { executable: wrapper },
      },
    );
    expect(outcome).toMatchObject({ ok: true, report: 'done' });
    expect(activities.filter((a) => a.kind === 'warning').length).toBeGreaterThanOrEqual(3);
  });

  it('reports truncated output (no final result) as bad output', async () => {
    const sandbox = await makeSandbox();
    cleanups.push(sandbox.cleanup);
    const wrapper = join(sandbox.root, 'claude-truncated');
    await writeScript(wrapper, `${join(binDir, 'claude')} "$@" | head -n 2\n`);
    const { outcome } = await runClaude(
      (n) => (n === 0 ? write(() => sandbox, 'src/api.ts', 'ok\n') : done('done')),
      {
        sandbox,
        claude: { executable: wrapper },
      },
    );
    expect(outcome).toMatchObject({ ok: false, code: 'bad-output' });
  });

  it('resumes the same session for a retry', async () => {
    const sandbox = await makeSandbox();
    cleanups.push(sandbox.cleanup);
    const first = await runClaude(() => done('FIRST-ANSWER'), { sandbox });
    expect(first.outcome.ok).toBe(true);
    const sessionId = first.outcome.sessionId;
    expect(sessionId).toBeDefined();
    const second = await runClaude(() => done('second'), {
      sandbox,
      task: { resumeSessionId: sessionId ?? '', prompt: 'Validation failed: fix it' },
    });
    expect(second.outcome).toMatchObject({ ok: true, sessionId });
    expect(JSON.stringify(second.api.requests[0]?.body)).toContain('FIRST-ANSWER');
  });
});
