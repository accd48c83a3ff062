/**
 * The real Codex CLI (pinned devDependency) against a loopback stand-in of the Responses API. No network.
 * Model `gpt-5.5` gets the freeform `apply_patch` and `exec_command` tools in Codex 0.169.0.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBuiltinPrices, priceUsage } from '../../src/analyze/prices.js';
import { codexBackend, type CodexOptions } from '../../src/agents/codex.js';
import type { Pricer } from '../../src/agents/pricing.js';
import type { RunAgentOptions } from '../../src/agents/process.js';
import type { AgentTask } from '../../src/agents/types.js';
import { binDir, isolatedEnv, makeSandbox, type Sandbox } from '../standins/env.js';
import {
  addFilePatch,
  startOpenAIStandin,
  type ResponsesReply,
  type ResponsesScript,
} from '../standins/openai.js';
import { noisyWrapper, runInSandbox, sandboxTask, type SandboxRun } from './helpers.js';

const MODEL = 'gpt-5.5';
/** Time limits of a run (overridable per test). */
const LIMITS = { timeoutMs: 60_000, stallMs: 20_000, graceMs: 1_000 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pricer(): Promise<Pricer> {
  const table = await loadBuiltinPrices();
  return (model, tokens) => priceUsage(model, tokens, table);
}

async function runCodex(
  script: ResponsesScript,
  opts: { task?: Partial<AgentTask>; codex?: CodexOptions; run?: RunAgentOptions; sandbox?: Sandbox } = {},
): Promise<SandboxRun> {
  const sandbox = opts.sandbox ?? (await makeSandbox({ 'README.md': '# demo\n' }));
  if (opts.sandbox === undefined) cleanups.push(sandbox.cleanup);
  const api = await startOpenAIStandin(script);
  cleanups.push(api.close);
  const task = sandboxTask(sandbox, { model: MODEL, ...opts.task });
  const backend = codexBackend({
    executable: join(binDir, 'codex'),
    home: join(sandbox.home, '.codex'),
    env: { ...isolatedEnv(sandbox), OPENAI_API_KEY: 'dummy' },
    pricer: await pricer(),
    extraArgs: [
      '-c',
      'model_provider="standin"',
      '-c',
      `model_providers.standin.base_url="${api.url}/v1"`,
      '-c',
      'model_providers.standin.name="standin"',
      '-c',
      'model_providers.standin.wire_api="responses"',
      '-c',
      'model_providers.standin.env_key="OPENAI_API_KEY"',
      '-c',
      'model_providers.standin.request_max_retries=0',
    ],
    ...opts.codex,
  });
  return runInSandbox(backend, task, sandbox, api, LIMITS, opts.run);
}

const patch = (path: string, content: string): ResponsesReply => ({
  kind: 'response',
  items: [{ type: 'custom_tool_call', name: 'apply_patch', input: addFilePatch(path, content) }],
});
const say = (text: string, usage?: { input: number; cached?: number; output: number }): ResponsesReply => ({
  kind: 'response',
  items: [{ type: 'message', text }],
  ...(usage === undefined ? {} : { usage }),
});

describe('codex backend against the real Codex CLI', () => {
  it('writes files with apply_patch, runs a command, and prices the tokens it reports', async () => {
    const { outcome, activities, sandbox, log } = await runCodex((n) => {
      if (n === 0)
        return {
          ...patch('src/api.ts', 'export const api = 1;'),
          usage: { input: 2000, cached: 500, output: 120 },
        };
      if (n === 1)
        return {
          kind: 'response',
          items: [
            { type: 'function_call', name: 'exec_command', arguments: { cmd: 'echo ok > src/check.txt' } },
          ],
        };
      return say('API layer done.', { input: 3000, cached: 1000, output: 80 });
    });
    expect(outcome).toMatchObject({ ok: true, report: 'API layer done.' });
    expect(await readFile(join(sandbox.worktree, 'src/api.ts'), 'utf8')).toBe('export const api = 1;\n');
    expect(await readFile(join(sandbox.worktree, 'src/check.txt'), 'utf8')).toBe('ok\n');
    expect(activities).toContainEqual({ kind: 'edit', path: 'src/api.ts' });
    expect(activities.some((a) => a.kind === 'command' && a.command.includes('echo ok'))).toBe(true);
    // Tokens are what Codex reported in turn.completed; the cost is Maestro's price for them.
    const turn = log.split('\n').find((l) => l.includes('"turn.completed"'));
    const reported = (JSON.parse(turn ?? '{}') as { usage: Record<string, number> }).usage;
    expect(outcome.usage).toMatchObject({
      inputTokens: (reported['input_tokens'] ?? 0) - (reported['cached_input_tokens'] ?? 0),
      cacheReadTokens: reported['cached_input_tokens'],
      outputTokens: reported['output_tokens'],
      costSource: 'priced',
    });
    expect(outcome.usage.inputTokens).toBe(2000 + 1000 + 3000 - 500 - 1000);
    const table = await loadBuiltinPrices();
    expect(outcome.usage.costUsd).toBeCloseTo(priceUsage(MODEL, outcome.usage, table) ?? -1, 12);
    expect(outcome.usage.costUsd).toBeGreaterThan(0);
  });

  it('lets an out-of-scope write happen and still succeeds', async () => {
    const { outcome, sandbox } = await runCodex((n) =>
      n === 0 ? patch('other/stray.ts', 'x') : say('done'),
    );
    expect(outcome.ok).toBe(true);
    expect(await readFile(join(sandbox.worktree, 'other/stray.ts'), 'utf8')).toBe('x\n');
  });

  it('reports an API 400 as an api-error', async () => {
    const { outcome } = await runCodex(() => ({
      kind: 'error',
      status: 400,
      message: 'Invalid request: bad input',
    }));
    expect(outcome).toMatchObject({ ok: false, code: 'api-error' });
    if (!outcome.ok) expect(outcome.message).toMatch(/400|bad input/i);
  });

  it('reports an endless reconnect loop cut by the stall timeout as a network failure', async () => {
    const { outcome, activities } = await runCodex(
      () => ({ kind: 'error', status: 500, message: 'server down' }),
      {
        run: { stallMs: 3_000 },
      },
    );
    expect(activities.some((a) => a.kind === 'retry')).toBe(true);
    expect(outcome).toMatchObject({ ok: false, code: 'network' });
  });

  it('stops at the stream budget', async () => {
    const { outcome } = await runCodex(() => say('done', { input: 1_000_000, output: 10_000 }), {
      task: { budgetUsd: 0.01 },
    });
    expect(outcome).toMatchObject({ ok: false, code: 'budget', usage: { costSource: 'priced' } });
    expect(outcome.usage.costUsd).toBeGreaterThan(0.01);
  });

  it('reports a missing binary with how to install it', async () => {
    const { outcome } = await runCodex(() => say('never'), { codex: { executable: '/nonexistent/codex' } });
    expect(outcome).toMatchObject({ ok: false, code: 'missing-binary' });
    if (!outcome.ok) expect(outcome.message).toContain('npm install -g @openai/codex');
  });

  it('tolerates garbage lines in the stream', async () => {
    const sandbox = await makeSandbox();
    cleanups.push(sandbox.cleanup);
    const wrapper = await noisyWrapper(sandbox.root, 'codex');
    const { outcome, activities } = await runCodex(
      (n) => (n === 0 ? patch('src/api.ts', 'ok') : say('done')),
      {
        sandbox,
        codex: { executable: wrapper },
      },
    );
    expect(outcome).toMatchObject({ ok: true, report: 'done' });
    expect(activities.filter((a) => a.kind === 'warning').length).toBeGreaterThanOrEqual(2);
  });
});
