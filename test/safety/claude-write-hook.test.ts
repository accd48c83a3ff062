/**
 * Issue 16, "escapes are caught" with the Claude backend: the real Claude Code CLI (test/agents-cli), run by
 * the built `maestro run` against a loopback stand-in of the Anthropic API, asks to Write a file its stream
 * does not own, a file in the user's checkout, and its own file. Maestro's PreToolUse hook refuses the
 * first two as they happen (the CLI sends the denial back to the model as the tool's error result) and
 * lets the third land. The user's checkout is verified byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitSync } from '../helpers/repo.js';
import type { AnthropicReply } from '../standins/anthropic.js';
import type { RecordedRequest } from '../standins/http.js';
import { claudeFixture, latestRunDir, maestro, readState, worktreeOf } from '../e2e/agents-fixture.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const plan = ['# Hook plan', '', '## Phase 1: Config', '', 'Files:', '- `app/config.py` (create)', ''].join(
  '\n',
);

interface Block {
  readonly type: string;
  readonly content?: unknown;
  readonly is_error?: boolean;
}

/** Every tool_result the CLI sent back, in order. */
function toolResults(requests: readonly RecordedRequest[]): Block[] {
  const last = requests.at(-1)?.body as
    { messages?: { role: string; content: string | Block[] }[] } | undefined;
  return (last?.messages ?? []).flatMap((m) =>
    typeof m.content === 'string' ? [] : m.content.filter((b) => b.type === 'tool_result'),
  );
}

function textOf(block: Block | undefined): string {
  const content = block?.content;
  if (typeof content === 'string') return content;
  return JSON.stringify(content ?? '');
}

const write = (file: string, content: string): AnthropicReply => ({
  kind: 'message',
  content: [{ type: 'tool_use', name: 'Write', input: { file_path: file, content } }],
});

describe('the Claude PreToolUse write hook (real Claude Code against a stand-in API)', () => {
  it('denies writes outside the owned set as they happen; the owned write lands; the checkout is untouched', async () => {
    const { fixture, api, env } = await claudeFixture(cleanups, plan, (fx) => (_n, request) => {
      const worktree = worktreeOf(fx().repo, 's1');
      const done = (request.body as { messages?: { role: string }[] }).messages?.filter(
        (m) => m.role === 'assistant',
      ).length;
      switch (done) {
        case 0:
          return write(path.join(worktree, 'app', 'unowned.py'), 'UNOWNED = 1\n');
        case 1:
          return write(path.join(fx().repo, 'escaped.txt'), 'escaped\n');
        case 2:
          return write(path.join(worktree, 'app', 'config.py'), 'value = "owned"\n');
        default:
          return { kind: 'message', content: [{ type: 'text', text: 'Done.' }] };
      }
    });
    const result = await maestro(fixture, ['run', 'plan.md', '--agent', 'claude', '--yes'], env);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);

    // The CLI sent each refusal back to the model as an error result carrying Maestro's reason.
    const results = toolResults(api.requests);
    expect(results).toHaveLength(3);
    expect(results[0]?.is_error).toBe(true);
    expect(textOf(results[0])).toContain("app/unowned.py is not one of this stream's files");
    expect(textOf(results[0])).toContain('This stream owns: app/config.py');
    expect(results[1]?.is_error).toBe(true);
    expect(textOf(results[1])).toContain("is outside this stream's worktree");
    expect(results[2]?.is_error).not.toBe(true);

    // Neither refused file exists anywhere: not in the worktree, the user's checkout, or any branch.
    const found = execFileSync('find', [fixture.root, '-name', 'unowned.py', '-o', '-name', 'escaped.txt'], {
      encoding: 'utf8',
    });
    expect(found).toBe('');
    const state = readState(fixture.repo);
    expect(state.status).toBe('completed');
    expect(state.streams['s1']?.status).toBe('merged');
    const files = gitSync(fixture.repo, ['ls-tree', '-r', '--name-only', state.integrationBranch]);
    expect(files.split('\n').sort()).toEqual(['README.md', 'app/config.py', 'docs/architecture.md']);
    expect(gitSync(fixture.repo, ['show', `${state.integrationBranch}:app/config.py`])).toBe(
      'value = "owned"',
    );

    // The hook's settings live in the run directory: never in the worktree, never committed.
    const runDir = latestRunDir(fixture.repo);
    const settings = readFileSync(path.join(runDir, 'streams', 's1', 'claude-settings.json'), 'utf8');
    expect(settings).toContain('claude-hook.js');
    expect(settings).not.toContain('Config'); // no plan text in the hook's command line
    expect(existsSync(path.join(worktreeOf(fixture.repo, 's1'), '.claude'))).toBe(false);
    // The refusals are in the journal as warnings.
    const journal = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8');
    expect(journal).toContain('claude was refused Write app/unowned.py');
    fixture.verifyCheckout();
  });
});
