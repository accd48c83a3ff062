/**
 * `maestro analyze --assist` end to end with the real Claude Code CLI against a loopback stand-in of the
 * Anthropic API: the stand-in answers through the `--json-schema` tool the CLI offers, once with valid plan
 * settings (merged, the changes and the cost shown) and once always with a reply that fails the schema
 * (a clear error, the rule-based reading kept).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AnthropicScript } from '../standins/anthropic.js';
import type { RecordedRequest } from '../standins/http.js';
import { claudeFixture, maestro } from './agents-fixture.js';

const plan = `# Two parts

## Phase 1: Schema

Files:
- \`db/schema.sql\`

## Phase 2: Report

Files:
- \`src/report.ts\`
`;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The structured-output tool the CLI offers for `--json-schema`. */
function schemaTool(request: RecordedRequest): string | undefined {
  const tools = (request.body as { tools?: { name: string }[] } | undefined)?.tools ?? [];
  return tools.find((t) => /structured/i.test(t.name))?.name;
}

/** Answers every request with `answer` through the schema tool, then ends the turn. */
function answering(answer: unknown): AnthropicScript {
  return (_n, request) => {
    const messages = (request.body as { messages?: { role: string }[] } | undefined)?.messages ?? [];
    const last = messages[messages.length - 1] as
      { content?: { type: string; is_error?: boolean }[] } | undefined;
    const accepted =
      Array.isArray(last?.content) &&
      last.content.some((b) => b.type === 'tool_result' && b.is_error !== true);
    const tool = schemaTool(request);
    if (accepted || tool === undefined)
      return {
        kind: 'message',
        content: [{ type: 'text', text: 'Done.' }],
        usage: { input: 1200, output: 30 },
      };
    return {
      kind: 'message',
      content: [{ type: 'tool_use', name: tool, input: answer as Record<string, unknown> }],
      usage: { input: 1200, output: 80 },
    };
  };
}

function setUp(script: AnthropicScript) {
  return claudeFixture(cleanups, plan, () => script);
}

interface AssistJson {
  plan: { dependencyRule: string; phases: { id: string; dependsOn: string[]; files: { path: string }[] }[] };
  assist: { ok: boolean; agent: string; error?: string; changes: string[]; cost: { costUsd: number | null } };
}

describe('maestro analyze --assist --agent claude (real Claude Code, stand-in API)', () => {
  it('merges valid plan settings over the rule-based reading and shows what changed and what it cost', async () => {
    const { fixture, api, env } = await setUp(
      answering({
        dependencyRule: 'explicit',
        phases: [
          { id: '1', dependsOn: [] },
          { id: '2', dependsOn: [], files: ['src/report.ts', 'src/report.test.ts'] },
        ],
      }),
    );
    const text = await maestro(fixture, ['analyze', 'plan.md', '--assist', '--agent', 'claude'], env);
    expect(text.code, `${text.stdout}\n${text.stderr}`).toBe(0);
    expect(text.stdout).toMatch(
      /Assisted reading \(claude, \$\d+\.\d{4}, \d+ in \/ \d+ out tokens\): \d+ changes?/,
    );
    expect(text.stdout).toContain('- edge 2 ← 1');
    expect(text.stdout).toContain('+ file 2: src/report.test.ts');
    // The prompt carried the plan and the rule-based reading.
    const first = JSON.stringify(api.requests[0]?.body ?? '');
    expect(first).toContain('Phase 2: Report');
    expect(first).toContain("The tool's reading");

    const json = await maestro(fixture, ['analyze', 'plan.md', '--assist', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as AssistJson;
    expect(out.assist.ok).toBe(true);
    expect(out.assist.cost.costUsd).toBeGreaterThan(0);
    expect(out.plan.dependencyRule).toBe('explicit');
    expect(out.plan.phases.find((p) => p.id === '2')?.dependsOn).toEqual([]);
    expect(out.plan.phases.find((p) => p.id === '2')?.files.map((f) => f.path)).toContain(
      'src/report.test.ts',
    );
  }, 120_000);

  it('a reply that fails the schema: a clear error, exit 1, and the rule-based reading kept', async () => {
    const { fixture, env } = await setUp(answering({ phases: 'every phase at once' }));
    const json = await maestro(fixture, ['analyze', 'plan.md', '--assist', '--json'], env);
    expect(json.code).toBe(1);
    expect(json.stderr).toContain('--assist');
    expect(json.stderr).toMatch(/schema/i);
    expect(json.stderr).toContain('The rule-based reading is kept.');
    const out = JSON.parse(json.stdout) as AssistJson;
    expect(out.assist.ok).toBe(false);
    expect(out.assist.error).toMatch(/schema/i);
    // The rule-based reading: no dependencies stated, so phase 2 follows phase 1.
    expect(out.plan.dependencyRule).toBe('sequential');
    expect(out.plan.phases.map((p) => p.dependsOn)).toEqual([[], ['1']]);
  }, 120_000);
});
