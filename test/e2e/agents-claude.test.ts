/**
 * End-to-end with the real Claude Code CLI (pinned devDependency): the built `maestro run` on a temp repo,
 * each stream's agent talking to a loopback stand-in of the Anthropic API that answers with `Write` tool
 * uses for the files Maestro's prompt says the stream owns. No network; isolated HOME and CLAUDE_CONFIG_DIR.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitSync } from '../helpers/repo.js';
import type { AnthropicReply, AnthropicScript } from '../standins/anthropic.js';
import type { RecordedRequest } from '../standins/http.js';
import {
  agentLogEvents,
  claudeFixture,
  contentFor,
  latestRunDir,
  maestro,
  parsePrompt,
  readState,
  summaryRow,
  usd,
  worktreeOf,
  type AgentFixture,
} from './agents-fixture.js';

const seedPlan = readFileSync(new URL('../../examples/seed-plan.md', import.meta.url), 'utf8');

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Message {
  readonly role: string;
  readonly content: string | readonly { type: string; text?: string }[];
}

function messagesOf(request: RecordedRequest): readonly Message[] {
  return (request.body as { messages?: Message[] } | undefined)?.messages ?? [];
}

function textOf(message: Message): string {
  return typeof message.content === 'string'
    ? message.content
    : message.content.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('\n');
}

const usage = { input: 3000, output: 400, cacheRead: 1000, cacheWrite: 500 };

/** One `Write` per owned file (absolute paths in the stream's worktree), then a final summary. */
function writerScript(fixture: () => AgentFixture): AnthropicScript {
  return (_n, request) => {
    const messages = messagesOf(request);
    const prompt = parsePrompt(
      messages
        .filter((m) => m.role === 'user')
        .map(textOf)
        .join('\n'),
    );
    if (prompt === null) return { kind: 'message', content: [{ type: 'text', text: 'ok' }] };
    const done = messages.filter((m) => m.role === 'assistant').length;
    const file = prompt.files[done];
    if (file === undefined)
      return {
        kind: 'message',
        content: [
          { type: 'text', text: `Stream ${prompt.streamId} done: wrote ${prompt.files.join(', ')}.` },
        ],
        usage,
      };
    return writeReply(
      path.join(worktreeOf(fixture().repo, prompt.streamId), file),
      contentFor(file, prompt.streamId),
    );
  };
}

function writeReply(filePath: string, content: string): AnthropicReply {
  return {
    kind: 'message',
    content: [
      { type: 'text', text: `Writing ${path.basename(filePath)}.` },
      { type: 'tool_use', name: 'Write', input: { file_path: filePath, content } },
    ],
    usage,
  };
}

interface AnalysisJson {
  streams: { id: string; role: string; model: string; files: { path: string }[] }[];
}

describe('maestro run --agent claude (real Claude Code against a stand-in API)', { timeout: 180_000 }, () => {
  it('runs the seed plan: every stream’s files merged, per-stream tokens and cost as the CLI reported them', async () => {
    // Per-role models from the config file: the testing role runs on haiku.
    const { fixture, api, env } = await claudeFixture(cleanups, seedPlan, writerScript, {
      'maestro.config.json': JSON.stringify({ models: { testing: 'haiku' } }),
    });
    const result = await maestro(fixture, ['run', 'plan.md', '--agent', 'claude', '--yes'], env);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('run finished: completed');

    const runDir = latestRunDir(fixture.repo);
    const analysis = JSON.parse(readFileSync(path.join(runDir, 'analysis.json'), 'utf8')) as AnalysisJson;
    expect(analysis.streams).toHaveLength(7);
    const state = readState(fixture.repo);
    expect(state.status).toBe('completed');
    let total = 0;
    for (const stream of analysis.streams) {
      // Every owned file, as the real CLI wrote it, is on the integration branch.
      for (const { path: file } of stream.files)
        expect(gitSync(fixture.repo, ['show', `${state.integrationBranch}:${file}`])).toBe(
          contentFor(file, stream.id).trimEnd(),
        );
      // Tokens and cost equal what Claude Code reported in its result events (total_cost_usd, modelUsage).
      const results = agentLogEvents(fixture.repo, stream.id).filter((e) => e['type'] === 'result');
      expect(results.length).toBeGreaterThan(0);
      const reported = results.reduce((a, e) => a + (e['total_cost_usd'] as number), 0);
      const st = state.streams[stream.id];
      expect(st?.status).toBe('merged');
      expect(st?.usage?.costSource).toBe('reported');
      expect(st?.usage?.costUsd).toBeCloseTo(reported, 12);
      expect(reported).toBeGreaterThan(0);
      const row = summaryRow(result.stdout, stream.id);
      expect(row).toContain(`${String(st?.usage?.inputTokens)} in / ${String(st?.usage?.outputTokens)} out`);
      expect(row).toContain(usd(reported));
      total += reported;
    }
    expect(state.costUsd).toBeCloseTo(total, 10);
    // Models per role reached the agents: haiku for the testing stream (config), opus for the migration role.
    const testing = analysis.streams.find((s) => s.role === 'testing');
    expect(testing?.model).toBe('haiku');
    const models = new Set(api.requests.map((r) => (r.body as { model?: string } | undefined)?.model));
    expect([...models].some((m) => m?.includes('haiku'))).toBe(true);
    expect([...models].some((m) => m?.includes('opus'))).toBe(true);
    // Commits are Maestro's, merged in dependency order; the summary shows the estimate and points to the report.
    const log = gitSync(fixture.repo, ['log', '--format=%s', state.integrationBranch]);
    expect(log).toContain('maestro: merge s1 (Database migration)');
    expect(result.stdout).toMatch(/Usage: \d+ in \/ \d+ out.*\$\d+\.\d{4} \(estimate \$\d/);
    expect(result.stdout).toMatch(/wave 1: .*\(estimate/);
    expect(result.stdout).toContain(`Report: ${path.join(runDir, 'REPORT.md')}`);
    expect(readFileSync(path.join(runDir, 'REPORT.md'), 'utf8')).toContain('s7');
    // Usage events carry wave and run totals.
    expect(result.stdout).toMatch(/s1: usage .* \(wave 1 \$\d+\.\d+; run \$\d+\.\d+\)/);
    fixture.verifyCheckout();
  });

  it('resumes the Claude session with the failure text when a validation gate fails', async () => {
    const plan = [
      '# Retry plan',
      '',
      '## Phase 1: Config',
      '',
      'Files:',
      '- `app/config.py` (create)',
      '',
      'Validation:',
      '```bash',
      'grep -q fixed app/config.py',
      '```',
      '',
    ].join('\n');
    const { fixture, api, env } = await claudeFixture(cleanups, plan, (fx) => (n, request) => {
      const file = path.join(worktreeOf(fx().repo, 's1'), 'app/config.py');
      const messages = messagesOf(request);
      const last = messages.at(-1);
      if (last !== undefined && textOf(last).includes('did not pass validation'))
        return writeReply(file, 'value = "fixed"\n');
      if (messages.filter((m) => m.role === 'assistant').length === 0 && n < 2)
        return writeReply(file, 'value = "broken"\n');
      return { kind: 'message', content: [{ type: 'text', text: 'Done.' }], usage };
    });
    const result = await maestro(fixture, ['run', 'plan.md', '--agent', 'claude', '--yes'], env);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain(
      's1: retrying (attempt 2): validation `grep -q fixed app/config.py` failed',
    );
    const resumed = api.requests.find((r) => {
      const last = messagesOf(r).at(-1);
      return last !== undefined && textOf(last).includes('did not pass validation');
    });
    expect(resumed).toBeDefined();
    // The resumed request carries the first attempt's conversation (same session), and the failure text.
    const history = JSON.stringify(messagesOf(resumed as RecordedRequest));
    expect(history).toContain('broken');
    expect(history).toContain('grep -q fixed app/config.py');
    const state = readState(fixture.repo);
    expect(gitSync(fixture.repo, ['show', `${state.integrationBranch}:app/config.py`])).toBe(
      'value = "fixed"',
    );
    fixture.verifyCheckout();
  });

  it('hands a merge conflict back to the agent: its Claude session is resumed, the conflict resolved and merged', async () => {
    const plan = [
      '# Conflict plan',
      '',
      '## Phase 1: Left',
      '',
      'Files:',
      '- `left.py` (create)',
      '',
      '## Phase 2: Right',
      '',
      'Depends on: none',
      '',
      'Files:',
      '- `right.py` (create)',
      '',
    ].join('\n');
    const conflictAsk = 'resolve these conflicts, keep both intents';
    // Both agents also write shared.py (so `--ownership warn`); s2's first answer waits until s1 has
    // merged (read from the run's journal), so s2's merge conflicts on shared.py.
    const { fixture, api, env } = await claudeFixture(cleanups, plan, (fx) => async (_n, request) => {
      const messages = messagesOf(request);
      const prompts = messages.filter((m) => m.role === 'user' && textOf(m).trim() !== '');
      const task = parsePrompt(prompts.map(textOf).join('\n'));
      if (task === null) return { kind: 'message', content: [{ type: 'text', text: 'ok' }] };
      const latest = prompts.at(-1);
      // Replies already given to the latest prompt (the task, or the conflict handed back).
      const steps = messages
        .slice(latest === undefined ? 0 : messages.lastIndexOf(latest))
        .filter((m) => m.role === 'assistant').length;
      const worktree = worktreeOf(fx().repo, task.streamId);
      if (latest !== undefined && textOf(latest).includes(conflictAsk)) {
        if (steps === 0) return writeReply(path.join(worktree, 'shared.py'), 'left = 1\nright = 2\n');
        return { kind: 'message', content: [{ type: 'text', text: 'Resolved shared.py.' }], usage };
      }
      if (task.streamId === 's2' && steps === 0) {
        const journal = path.join(latestRunDir(fx().repo), 'events.jsonl');
        while (!readFileSync(journal, 'utf8').includes('"type":"stream-merged","streamId":"s1"'))
          await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const side = task.streamId === 's1' ? 'left = 1\n' : 'right = 2\n';
      if (steps === 0)
        return writeReply(
          path.join(worktree, task.files[0] ?? 'x.py'),
          contentFor(task.files[0] ?? '', task.streamId),
        );
      if (steps === 1) return writeReply(path.join(worktree, 'shared.py'), side);
      return { kind: 'message', content: [{ type: 'text', text: `Stream ${task.streamId} done.` }], usage };
    });
    const result = await maestro(
      fixture,
      ['run', 'plan.md', '--agent', 'claude', '--yes', '--ownership', 'warn'],
      env,
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/merge conflict in shared\.py/);
    expect(result.stdout).toContain(
      's2: retrying (attempt 2): merge conflict in shared.py; handing it back to the agent',
    );
    // The resolution continued s2's own session: the request carries its first attempt's conversation.
    const resolving = api.requests.filter((r) => {
      const last = messagesOf(r)
        .filter((m) => m.role === 'user' && textOf(m).trim() !== '')
        .at(-1);
      return last !== undefined && textOf(last).includes(conflictAsk);
    });
    expect(resolving.length).toBeGreaterThan(0);
    const history = JSON.stringify(messagesOf(resolving[0] as RecordedRequest));
    expect(history).toContain('You work on stream s2');
    expect(history).toContain('right = 2');
    expect(history).toContain('left = 1'); // the other side, shown in the conflict prompt
    const runDir = latestRunDir(fixture.repo);
    const agentArgs = readFileSync(path.join(runDir, 'streams', 's2', 'agent.log'), 'utf8');
    expect(agentArgs).toContain('"session_id"');
    // Resolved and merged: both sides on the integration branch, no marker.
    const state = readState(fixture.repo) as ReturnType<typeof readState> & {
      streams: Record<
        string,
        {
          conflictRetries: number;
          sessionId: string;
          resolutionUsage: { inputTokens: number; outputTokens: number } | null;
          firstAttemptUsage: { inputTokens: number; outputTokens: number } | null;
        }
      >;
    };
    expect(state.status).toBe('completed');
    expect(state.streams['s2']?.status).toBe('merged');
    expect(state.streams['s2']?.conflictRetries).toBe(1);
    expect(gitSync(fixture.repo, ['show', `${state.integrationBranch}:shared.py`])).toBe(
      'left = 1\nright = 2',
    );
    expect(gitSync(fixture.repo, ['show', `${state.integrationBranch}:right.py`])).toBe(
      contentFor('right.py', 's2').trimEnd(),
    );
    // Tokens: the resolution cost less than the stream's first, full attempt (what a re-run would spend).
    // Claude Code's totals after --resume count the whole session; the resolution is charged its own share.
    const results = agentLogEvents(fixture.repo, 's2').filter((e) => e['type'] === 'result');
    expect(results).toHaveLength(2);
    const [firstCost, sessionCost] = results.map((e) => e['total_cost_usd'] as number);
    expect(state.costUsd).toBeCloseTo(
      (sessionCost ?? 0) + (state.streams['s1'] as unknown as { usage: { costUsd: number } }).usage.costUsd,
      10,
    );
    expect(firstCost).toBeLessThan(sessionCost ?? 0);
    const resolution = state.streams['s2']?.resolutionUsage;
    const first = state.streams['s2']?.firstAttemptUsage;
    expect(resolution?.inputTokens).toBeGreaterThan(0);
    expect(resolution?.inputTokens).toBeLessThan(first?.inputTokens ?? 0);
    const report = readFileSync(path.join(runDir, 'REPORT.md'), 'utf8');
    expect(report).toContain('Merge conflicts handed back to the agent that made them');
    expect(report).toMatch(
      /\| s2 \| 1 \| [\d.]+k in \/ [\d.]+ out, \$[\d.]+ \| [\d.]+k in \/ [\d.]+k? out, \$[\d.]+ \| merged \|/,
    );
    fixture.verifyCheckout();
  });

  it('stops at the run budget (resumable), then completes when resumed with a higher budget', async () => {
    const plan = [
      '# Budget plan',
      '',
      ...[1, 2, 3].flatMap((n) => [
        `## Phase ${String(n)}: Part ${String(n)}`,
        '',
        `Depends on: ${n === 1 ? 'none' : `Phase ${String(n - 1)}`}`,
        '',
        'Files:',
        `- \`part${String(n)}.py\` (create)`,
        '',
      ]),
    ].join('\n');
    const { fixture, env } = await claudeFixture(cleanups, plan, writerScript);
    const stopped = await maestro(
      fixture,
      ['run', 'plan.md', '--agent', 'claude', '--yes', '--budget-usd', '0.05'],
      env,
    );
    expect(stopped.code, `${stopped.stdout}\n${stopped.stderr}`).toBe(1);
    expect(stopped.stdout).toMatch(/budget exceeded: \$[\d.]+ of \$0\.05/);
    expect(stopped.stdout).toMatch(/Stopped by the run budget: \$[\d.]+ spent of \$0\.0500 \(--budget-usd\)/);
    expect(stopped.stdout).toContain('Resume with a higher budget: maestro resume');
    const before = readState(fixture.repo);
    expect(before.status).toBe('budget-exceeded');
    expect(before.costUsd).toBeGreaterThanOrEqual(0.05);
    // No agent started after the budget was reached.
    expect(before.streams['s3']?.status).toBe('pending');
    expect(existsSync(path.join(latestRunDir(fixture.repo), 'streams', 's3', 'agent.log'))).toBe(false);

    const resumed = await maestro(fixture, ['resume', '--budget-usd', '5'], env);
    expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    const after = readState(fixture.repo);
    expect(after.status).toBe('completed');
    for (const n of [1, 2, 3])
      expect(gitSync(fixture.repo, ['show', `${after.integrationBranch}:part${String(n)}.py`])).toContain(
        `part${String(n)}.py`,
      );
    expect(resumed.stdout).not.toContain('Stopped by the run budget');
    fixture.verifyCheckout();
  });

  it('says clearly when the agent executable is missing (--agent-path)', async () => {
    const { fixture, env } = await claudeFixture(cleanups, seedPlan, writerScript);
    const result = await maestro(
      fixture,
      ['run', 'plan.md', '--agent', 'claude', '--agent-path', '/nonexistent/claude', '--yes'],
      env,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--agent-path /nonexistent/claude: no executable file there');
    expect(result.stderr).toContain('npm install -g @anthropic-ai/claude-code');
    expect(existsSync(path.join(fixture.repo, '.maestro', 'runs'))).toBe(false);
    fixture.verifyCheckout();
  });
});
