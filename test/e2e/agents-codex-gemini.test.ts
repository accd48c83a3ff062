/**
 * End-to-end with the real Codex and Gemini CLIs (pinned devDependencies) against loopback stand-ins of their
 * model APIs: the built `maestro run` on the bundled seed-like example plan, files written by the CLIs' own tools, merged
 * by Maestro, and the cost priced by Maestro from the tokens the CLIs reported. No network.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBuiltinPrices, priceUsage } from '../../src/analyze/prices.js';
import { gitSync } from '../helpers/repo.js';
import { writeGeminiSettings } from '../standins/env.js';
import { startGeminiStandin, type GeminiScript } from '../standins/gemini.js';
import type { RecordedRequest } from '../standins/http.js';
import { addFilePatch, startOpenAIStandin, type ResponsesScript } from '../standins/openai.js';
import {
  agentLogEvents,
  contentFor,
  latestRunDir,
  maestro,
  makeAgentFixture,
  parsePrompt,
  readState,
  summaryRow,
  usd,
  worktreeOf,
  type AgentFixture,
} from './agents-fixture.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The bundled seed-like example: 7 phases (migration → models → services → API, tests in parallel). */
const seedPlan = readFileSync(new URL('../../examples/seed-plan.md', import.meta.url), 'utf8');

interface AnalysisJson {
  streams: { id: string; model: string; files: { path: string }[] }[];
}

function analysisOf(fixture: AgentFixture): AnalysisJson {
  return JSON.parse(
    readFileSync(path.join(latestRunDir(fixture.repo), 'analysis.json'), 'utf8'),
  ) as AnalysisJson;
}

function expectFilesMerged(fixture: AgentFixture, analysis: AnalysisJson, branch: string): void {
  for (const stream of analysis.streams)
    for (const { path: file } of stream.files)
      expect(gitSync(fixture.repo, ['show', `${branch}:${file}`])).toBe(
        contentFor(file, stream.id).trimEnd(),
      );
}

/** All the text of a request body (prompt search); the CLIs send the whole history each time. */
function textsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) textsOf(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) textsOf(v, out);
  return out;
}

function promptOf(request: RecordedRequest) {
  for (const text of textsOf(request.body)) {
    const prompt = parsePrompt(text);
    if (prompt !== null) return prompt;
  }
  return null;
}

describe(
  'maestro run --agent codex (real Codex CLI against a stand-in Responses API)',
  { timeout: 180_000 },
  () => {
    it('merges every stream’s files and prices the tokens Codex reported', async () => {
      const fixture = makeAgentFixture(seedPlan);
      cleanups.push(fixture.cleanup);
      // One apply_patch per owned file (as many as tool outputs so far), then a final message.
      const script: ResponsesScript = (_n, request) => {
        const prompt = promptOf(request);
        if (prompt === null) return { kind: 'response', items: [{ type: 'message', text: 'ok' }] };
        const input = (request.body as { input?: { type?: string }[] } | undefined)?.input ?? [];
        const done = input.filter((i) => i.type === 'custom_tool_call_output').length;
        const file = prompt.files[done];
        if (file === undefined)
          return {
            kind: 'response',
            items: [{ type: 'message', text: `Stream ${prompt.streamId} done.` }],
            usage: { input: 4000, cached: 1000, output: 300 },
          };
        return {
          kind: 'response',
          items: [
            {
              type: 'custom_tool_call',
              name: 'apply_patch',
              input: addFilePatch(file, contentFor(file, prompt.streamId)),
            },
          ],
          usage: { input: 3000, cached: 500, output: 200 },
        };
      };
      const api = await startOpenAIStandin(script);
      cleanups.push(api.close);
      mkdirSync(fixture.env['CODEX_HOME'] ?? '', { recursive: true });
      writeFileSync(
        path.join(fixture.env['CODEX_HOME'] ?? '', 'config.toml'),
        [
          'model_provider = "standin"',
          '[model_providers.standin]',
          'name = "standin"',
          `base_url = "${api.url}/v1"`,
          'wire_api = "responses"',
          'env_key = "OPENAI_API_KEY"',
          'request_max_retries = 0',
          'stream_max_retries = 0',
          '',
        ].join('\n'),
      );
      const result = await maestro(fixture, ['run', 'plan.md', '--agent', 'codex', '--yes'], {
        OPENAI_API_KEY: 'dummy',
      });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const state = readState(fixture.repo);
      const analysis = analysisOf(fixture);
      expectFilesMerged(fixture, analysis, state.integrationBranch);
      // Role files name Claude models; Codex gets its own default model instead.
      expect(analysis.streams.every((s) => s.model === 'gpt-5.5')).toBe(true);
      expect(api.requests.every((r) => (r.body as { model?: string }).model === 'gpt-5.5')).toBe(true);
      const prices = await loadBuiltinPrices();
      for (const stream of analysis.streams) {
        // Tokens as Codex reported them in turn.completed; cost priced by Maestro at gpt-5.5's prices.
        const turns = agentLogEvents(fixture.repo, stream.id).filter((e) => e['type'] === 'turn.completed');
        expect(turns.length).toBeGreaterThan(0);
        let input = 0;
        let cached = 0;
        let output = 0;
        for (const t of turns) {
          const u = t['usage'] as {
            input_tokens: number;
            cached_input_tokens: number;
            output_tokens: number;
          };
          input += u.input_tokens;
          cached += u.cached_input_tokens;
          output += u.output_tokens;
        }
        const expected = priceUsage(
          'gpt-5.5',
          { inputTokens: input - cached, outputTokens: output, cacheReadTokens: cached },
          prices,
        );
        const usage = state.streams[stream.id]?.usage;
        expect(usage?.costSource).toBe('priced');
        expect(usage?.inputTokens).toBe(input - cached);
        expect(usage?.cacheReadTokens).toBe(cached);
        expect(usage?.outputTokens).toBe(output);
        expect(usage?.costUsd).toBeCloseTo(expected ?? -1, 12);
        expect(summaryRow(result.stdout, stream.id)).toContain(usd(expected ?? 0));
      }
      fixture.verifyCheckout();
    });
  },
);

describe(
  'maestro run --agent gemini (real Gemini CLI against a stand-in Gemini API)',
  { timeout: 180_000 },
  () => {
    it('merges every stream’s files, uses --model, and prices the tokens Gemini reported', async () => {
      const fixture = makeAgentFixture(seedPlan);
      cleanups.push(fixture.cleanup);
      await writeGeminiSettings(fixture.home, { general: { maxAttempts: 1 } });
      const script: GeminiScript = (_n, request) => {
        const prompt = promptOf(request);
        if (prompt === null) return { kind: 'content', parts: [{ text: 'ok' }] };
        const contents =
          (request.body as { contents?: { parts?: Record<string, unknown>[] }[] }).contents ?? [];
        const done = contents.flatMap((c) => c.parts ?? []).filter((p) => 'functionResponse' in p).length;
        const file = prompt.files[done];
        if (file === undefined)
          return {
            kind: 'content',
            parts: [{ text: `Stream ${prompt.streamId} done.` }],
            usage: { prompt: 2500, output: 150 },
          };
        return {
          kind: 'content',
          parts: [
            {
              functionCall: {
                name: 'write_file',
                args: {
                  file_path: path.join(worktreeOf(fixture.repo, prompt.streamId), file),
                  content: contentFor(file, prompt.streamId),
                },
              },
            },
          ],
          usage: { prompt: 2000, output: 120 },
        };
      };
      const api = await startGeminiStandin(script);
      cleanups.push(api.close);
      const result = await maestro(
        fixture,
        ['run', 'plan.md', '--agent', 'gemini', '--model', 'gemini-2.5-flash', '--yes'],
        { GEMINI_API_KEY: 'dummy', GOOGLE_GEMINI_BASE_URL: api.url },
      );
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const state = readState(fixture.repo);
      const analysis = analysisOf(fixture);
      expectFilesMerged(fixture, analysis, state.integrationBranch);
      const generate = api.requests.filter((r) => r.url.includes(':streamGenerateContent'));
      expect(generate.every((r) => r.url.includes('/models/gemini-2.5-flash:'))).toBe(true);
      const prices = await loadBuiltinPrices();
      for (const stream of analysis.streams) {
        const results = agentLogEvents(fixture.repo, stream.id).filter((e) => e['type'] === 'result');
        expect(results).toHaveLength(1);
        const stats = results[0]?.['stats'] as {
          input_tokens: number;
          output_tokens: number;
          cached?: number;
        };
        const cached = stats.cached ?? 0;
        const expected = priceUsage(
          'gemini-2.5-flash',
          {
            inputTokens: stats.input_tokens - cached,
            outputTokens: stats.output_tokens,
            cacheReadTokens: cached,
          },
          prices,
        );
        const usage = state.streams[stream.id]?.usage;
        expect(usage?.costSource).toBe('priced');
        expect(usage?.outputTokens).toBe(stats.output_tokens);
        expect(usage?.costUsd).toBeCloseTo(expected ?? -1, 12);
        expect(summaryRow(result.stdout, stream.id)).toContain(usd(expected ?? 0));
      }
      fixture.verifyCheckout();
    });
  },
);
