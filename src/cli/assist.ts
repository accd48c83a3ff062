/**
 * `maestro analyze --assist`: asks an agent CLI for the plan settings as JSON, checked against the
 * published plan-settings schema, and merges them over the rule-based reading. Facts relied on
 * (agent-protocols.md): Claude Code's `--json-schema` puts the checked object in `structured_output` of
 * the final `--output-format json` result, retries the model itself on a reply that fails the schema and
 * ends with `error_max_structured_output_retries`; `total_cost_usd` is the cost. Codex takes
 * `--output-schema FILE` and `-o FILE`; Gemini has no schema flag, so its JSON answer is checked here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x } from 'tinyexec';
import { readAssistReply, type AssistReply } from '../analyze/assist.js';
import { planSettingsJsonSchema } from '../plan/settings.js';

/** The agents `--assist` can ask. */
export const ASSIST_AGENTS = ['claude', 'codex', 'gemini'] as const;
export type AssistAgent = (typeof ASSIST_AGENTS)[number];

/** What one assisted reading cost, as the agent CLI reported it. */
export interface AssistCost {
  /** USD, or null when the CLI reports none (Codex, Gemini report tokens only). */
  readonly costUsd: number | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** The outcome: the checked reply (or why there is none) and its cost. */
export type AssistOutcome = AssistReply & { readonly agent: AssistAgent; readonly cost: AssistCost };

/** An agent that does not answer within this time has failed (it is killed). */
const ASSIST_TIMEOUT_MS = 5 * 60_000;

const noCost: AssistCost = { costUsd: null, inputTokens: 0, outputTokens: 0 };

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** The JSON object an agent printed, or null. */
function parseJson(text: string): unknown {
  const trimmed = text.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return null;
  }
}

function failure(agent: AssistAgent, error: string, cost: AssistCost = noCost): AssistOutcome {
  return { ok: false, error, agent, cost };
}

/** Reads Claude Code's `--output-format json` result. */
function fromClaude(stdout: string, stderr: string, exitCode: number | undefined): AssistOutcome {
  const result = parseJson(stdout) as Record<string, unknown> | null;
  if (result === null || typeof result !== 'object')
    return failure(
      'claude',
      `claude printed no result (exit ${String(exitCode)}): ${(stderr || stdout).trim().slice(0, 300)}`,
    );
  const usage = (result['usage'] ?? {}) as Record<string, unknown>;
  const cost: AssistCost = {
    costUsd: num(result['total_cost_usd']),
    inputTokens:
      num(usage['input_tokens']) +
      num(usage['cache_read_input_tokens']) +
      num(usage['cache_creation_input_tokens']),
    outputTokens: num(usage['output_tokens']),
  };
  if (result['is_error'] !== false) {
    const errors = Array.isArray(result['errors']) ? result['errors'].map(String).join('; ') : '';
    const why = errors || (typeof result['result'] === 'string' ? result['result'] : '');
    return failure(
      'claude',
      `claude did not give valid plan settings (${String(result['subtype'])}): ${why}`,
      cost,
    );
  }
  // The CLI checked the schema already; Maestro checks again with its own schema (and its transforms).
  const checked = readAssistReply(result['structured_output']);
  return { ...checked, agent: 'claude', cost };
}

/** Asks `agent` for the plan settings; never throws for the agent's failures. */
export async function askAgent(
  agent: AssistAgent,
  prompt: string,
  options: { readonly cwd: string; readonly executable?: string; readonly model?: string },
): Promise<AssistOutcome> {
  // Claude Code's validator knows no draft 2020-12 meta-schema URL; without `$schema` it reads the same schema.
  const published = { ...planSettingsJsonSchema() };
  delete published['$schema'];
  const schema = JSON.stringify(published);
  const executable = options.executable ?? agent;
  const model = options.model === undefined ? [] : ['--model', options.model];
  const work = mkdtempSync(join(tmpdir(), 'maestro-assist-'));
  try {
    const run = (args: string[], stdin?: string) =>
      x(executable, args, {
        timeout: ASSIST_TIMEOUT_MS,
        throwOnError: false,
        ...(stdin === undefined ? {} : { stdin }),
        nodeOptions: { cwd: options.cwd, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] },
      });
    let result;
    try {
      switch (agent) {
        case 'claude':
          // No tools: the plan is in the prompt, and the answer is the schema-checked object.
          result = await run(
            ['-p', '--output-format', 'json', '--json-schema', schema, '--tools', '', ...model],
            prompt,
          );
          return fromClaude(result.stdout, result.stderr, result.exitCode);
        case 'codex': {
          const schemaFile = join(work, 'schema.json');
          const answerFile = join(work, 'answer.json');
          writeFileSync(schemaFile, schema);
          result = await run([
            'exec',
            '--skip-git-repo-check',
            '-s',
            'read-only',
            '--output-schema',
            schemaFile,
            '-o',
            answerFile,
            ...(options.model === undefined ? [] : ['-m', options.model]),
            prompt,
          ]);
          let answer = '';
          try {
            answer = readFileSync(answerFile, 'utf8');
          } catch {
            return failure(
              'codex',
              `codex gave no answer (exit ${String(result.exitCode)}): ${result.stderr.trim().slice(0, 300)}`,
            );
          }
          return { ...readAssistReply(parseJson(answer)), agent, cost: noCost };
        }
        case 'gemini': {
          result = await run([
            '-p',
            `${prompt}\n\nThe JSON Schema of the answer:\n${schema}`,
            '-o',
            'json',
            ...model,
          ]);
          const out = parseJson(result.stdout) as {
            response?: unknown;
            stats?: Record<string, unknown>;
          } | null;
          const models = (out?.stats?.['models'] ?? {}) as Record<
            string,
            { tokens?: Record<string, unknown> }
          >;
          const tokens = Object.values(models).map((m) => m.tokens ?? {});
          const cost: AssistCost = {
            costUsd: null,
            inputTokens: tokens.reduce((a, t) => a + num(t['prompt']), 0),
            outputTokens: tokens.reduce((a, t) => a + num(t['candidates']), 0),
          };
          if (typeof out?.response !== 'string')
            return failure(
              'gemini',
              `gemini gave no answer (exit ${String(result.exitCode)}): ${result.stderr.trim().slice(0, 300)}`,
              cost,
            );
          return { ...readAssistReply(parseJson(out.response)), agent, cost };
        }
      }
    } catch (error) {
      // tinyexec reports a missing executable or a timeout kill as an error.
      return failure(agent, `could not run ${executable}: ${(error as Error).message}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
