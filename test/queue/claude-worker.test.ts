/**
 * Claude Code on a queue worker keeps its write hook: the real `claude` CLI (test/agents-cli), run by a
 * `maestro worker` against a loopback stand-in of the Anthropic API, with a real redis-server and a bare
 * repository as the remote. The job carries the stream's owned files, so the worker installs the same
 * PreToolUse hook a local run does: a Write outside them is refused as it happens, the owned one lands.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, waitUntil } from '../helpers/cli.js';
import { processesUnder } from '../helpers/procs.js';
import { startRedis } from '../helpers/redis.js';
import { gitSync } from '../helpers/repo.js';
import type { AnthropicReply } from '../standins/anthropic.js';
import { claudeFixture, maestro, readState } from '../e2e/agents-fixture.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const plan = ['# Hook plan', '', '## Phase 1: Config', '', 'Files:', '- `app/config.py` (create)', ''].join(
  '\n',
);

const write = (file: string, content: string): AnthropicReply => ({
  kind: 'message',
  content: [{ type: 'tool_use', name: 'Write', input: { file_path: file, content } }],
});

describe('Claude Code on a queue worker', () => {
  it('refuses writes outside the owned files there too; the owned write lands on the integration branch', async () => {
    const { fixture, api, env } = await claudeFixture(cleanups, plan, () => (_n, request) => {
      const body = JSON.stringify(request.body);
      // The worker's worktree, as Claude Code tells the model where it works.
      const worktree = /Primary working directory: (.*?)\\n/.exec(body)?.[1] ?? '/nowhere';
      const turns = (request.body as { messages?: { role: string }[] }).messages?.filter(
        (m) => m.role === 'assistant',
      ).length;
      switch (turns) {
        case 0:
          return write(path.join(worktree, 'app', 'unowned.py'), 'UNOWNED = 1\n');
        case 1:
          return write(path.join(worktree, 'app', 'config.py'), 'value = "owned"\n');
        default:
          return { kind: 'message', content: [{ type: 'text', text: 'Done.' }] };
      }
    });
    const remote = path.join(fixture.root, 'remote.git');
    gitSync(fixture.root, ['init', '--quiet', '--bare', remote]);
    gitSync(fixture.repo, ['remote', 'add', 'origin', remote]);
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const workDir = path.join(fixture.root, 'work-w1');
    const worker = startCli(
      ['worker', '--redis', redis.url, '--agent', 'claude', '--work-dir', workDir, '--name', 'w1'],
      fixture.root,
      { ...fixture.env, ...env },
    );
    cleanups.push(async () => {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
      await worker.exited;
      await waitUntil(() => processesUnder(workDir).length === 0, 15_000);
    });
    await worker.waitFor(/worker w1: claude/);

    const result = await maestro(
      fixture,
      ['run', 'plan.md', '--agent', 'claude', '--yes', '--redis', redis.url, '--remote', 'origin'],
      env,
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);

    // The agent ran on the worker, and the CLI sent the refusal back to the model as the tool's error.
    expect(api.turns()).toBe(3);
    const last = JSON.stringify(api.requests.at(-1)?.body);
    expect(last).toContain('app/unowned.py is not one of');
    expect(last).toContain(workDir);
    const found = execFileSync('find', [fixture.root, '-name', 'unowned.py'], { encoding: 'utf8' });
    expect(found).toBe('');
    const state = readState(fixture.repo);
    expect(state.status).toBe('completed');
    expect(gitSync(fixture.repo, ['show', `${state.integrationBranch}:app/config.py`])).toBe(
      'value = "owned"',
    );
  }, 180_000);
});
