/**
 * The real Gemini CLI (pinned devDependency) against a loopback stand-in of the Gemini API. No network.
 * Each run gets its own HOME (settings.json selecting API-key auth) and TMPDIR.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBuiltinPrices, priceUsage } from '../../src/analyze/prices.js';
import { geminiBackend, type GeminiOptions } from '../../src/agents/gemini.js';
import type { RunAgentOptions } from '../../src/agents/process.js';
import type { AgentTask } from '../../src/agents/types.js';
import { binDir, isolatedEnv, makeSandbox, writeGeminiSettings, type Sandbox } from '../standins/env.js';
import { startGeminiStandin, type GeminiReply, type GeminiScript } from '../standins/gemini.js';
import { noisyWrapper, runInSandbox, sandboxTask, type SandboxRun } from './helpers.js';

const MODEL = 'gemini-2.5-flash';
/** Time limits of a run (overridable per test). */
const LIMITS = { timeoutMs: 90_000, stallMs: 60_000, graceMs: 1_000 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function runGemini(
  script: (sandbox: Sandbox) => GeminiScript,
  opts: {
    task?: Partial<AgentTask>;
    gemini?: GeminiOptions;
    run?: RunAgentOptions;
    settings?: Record<string, unknown>;
  } = {},
): Promise<SandboxRun> {
  const sandbox = await makeSandbox({ 'README.md': '# demo\n' });
  cleanups.push(sandbox.cleanup);
  await writeGeminiSettings(sandbox.home, opts.settings);
  const api = await startGeminiStandin(script(sandbox));
  cleanups.push(api.close);
  const table = await loadBuiltinPrices();
  const task = sandboxTask(sandbox, { model: MODEL, ...opts.task });
  const backend = geminiBackend({
    executable: join(binDir, 'gemini'),
    env: { ...isolatedEnv(sandbox), GEMINI_API_KEY: 'dummy', GOOGLE_GEMINI_BASE_URL: api.url },
    pricer: (model, tokens) => priceUsage(model, tokens, table),
    ...opts.gemini,
  });
  return runInSandbox(backend, task, sandbox, api, LIMITS, opts.run);
}

const writeFileCall = (sandbox: Sandbox, path: string, content: string): GeminiReply => ({
  kind: 'content',
  parts: [
    { text: `Writing ${path}.` },
    { functionCall: { name: 'write_file', args: { file_path: join(sandbox.worktree, path), content } } },
  ],
});
const say = (text: string, usage?: { prompt: number; output: number }): GeminiReply => ({
  kind: 'content',
  parts: [{ text }],
  ...(usage === undefined ? {} : { usage }),
});

describe('gemini backend against the real Gemini CLI', () => {
  it('writes the stream files and prices the tokens it reports', async () => {
    const { outcome, activities, sandbox, log } = await runGemini(
      (sb) => (n) =>
        n === 0
          ? {
              ...writeFileCall(sb, 'src/api.ts', 'export const api = 1;\n'),
              usage: { prompt: 1500, output: 60 },
            }
          : say('API layer done.', { prompt: 2500, output: 40 }),
    );
    expect(outcome).toMatchObject({ ok: true, report: 'API layer done.' });
    expect(await readFile(join(sandbox.worktree, 'src/api.ts'), 'utf8')).toBe('export const api = 1;\n');
    expect(activities).toContainEqual({ kind: 'edit', path: 'src/api.ts' });
    const resultLine = log.split('\n').find((l) => l.includes('"type":"result"'));
    const stats = (JSON.parse(resultLine ?? '{}') as { stats: Record<string, number> }).stats;
    expect(outcome.usage).toMatchObject({
      inputTokens: stats['input_tokens'],
      outputTokens: stats['output_tokens'],
      costSource: 'priced',
    });
    expect(outcome.usage).toMatchObject({ inputTokens: 4000, outputTokens: 100 });
    const table = await loadBuiltinPrices();
    expect(outcome.usage.costUsd).toBeCloseTo(priceUsage(MODEL, outcome.usage, table) ?? -1, 12);
    expect(outcome.usage.costUsd).toBeGreaterThan(0);
  });

  it('lets an out-of-scope write happen and still succeeds', async () => {
    const { outcome, sandbox } = await runGemini(
      (sb) => (n) => (n === 0 ? writeFileCall(sb, 'other/stray.ts', 'x\n') : say('done')),
    );
    expect(outcome.ok).toBe(true);
    expect(await readFile(join(sandbox.worktree, 'other/stray.ts'), 'utf8')).toBe('x\n');
  });

  it('reports an API 400 (exit 144 = 400 mod 256) as an api-error', async () => {
    const { outcome, api } = await runGemini(() => () => ({
      kind: 'error',
      status: 400,
      message: 'Request contains an invalid argument.',
    }));
    expect(outcome).toMatchObject({ ok: false, code: 'api-error' });
    if (!outcome.ok) expect(outcome.message).toContain('400');
    expect(api.turns()).toBe(1);
  });

  it('reports a retry storm cut by the stall timeout as such', async () => {
    // Gemini waits 5 s, then 10 s… between attempts; its retry notices on stderr are not progress. The
    // stall limit leaves room for the CLI to start and fail its first attempt on a loaded machine.
    const { outcome, activities, log } = await runGemini(
      () => () => ({ kind: 'error', status: 503, message: 'overloaded' }),
      {
        run: { stallMs: 25_000 },
      },
    );
    expect(
      activities.some((a) => a.kind === 'retry'),
      log,
    ).toBe(true);
    expect(outcome).toMatchObject({ ok: false, code: 'retry-storm' });
  }, 150_000);

  it('reports the turn limit (exit 53)', async () => {
    const { outcome } = await runGemini(
      (sb) => (n) => writeFileCall(sb, `src/f${n}.ts`, `export const n = ${n};\n`),
      {
        settings: { model: { maxSessionTurns: 1 } },
      },
    );
    expect(outcome).toMatchObject({ ok: false, code: 'max-turns' });
  });

  it('stops at the stream budget', async () => {
    const { outcome } = await runGemini(() => () => say('done', { prompt: 2_000_000, output: 1_000 }), {
      task: { budgetUsd: 0.01 },
    });
    expect(outcome).toMatchObject({ ok: false, code: 'budget', usage: { costSource: 'priced' } });
  });

  it('reports a missing binary with how to install it', async () => {
    const { outcome } = await runGemini(() => () => say('never'), {
      gemini: { executable: '/nonexistent/gemini' },
    });
    expect(outcome).toMatchObject({ ok: false, code: 'missing-binary' });
    if (!outcome.ok) expect(outcome.message).toContain('npm install -g @google/gemini-cli');
  });

  it('tolerates garbage lines in the stream', async () => {
    const wrapperDir = await makeSandbox();
    cleanups.push(wrapperDir.cleanup);
    const wrapper = await noisyWrapper(wrapperDir.root, 'gemini');
    const { outcome, activities } = await runGemini(
      (sb) => (n) => (n === 0 ? writeFileCall(sb, 'src/api.ts', 'ok\n') : say('done')),
      {
        gemini: { executable: wrapper },
      },
    );
    expect(outcome).toMatchObject({ ok: true, report: 'done' });
    expect(activities.filter((a) => a.kind === 'warning').length).toBeGreaterThanOrEqual(2);
  });
});
