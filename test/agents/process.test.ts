import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { geminiBackend } from '../../src/agents/gemini.js';
import { AgentProcess, runAgent } from '../../src/agents/process.js';
import type {
  AgentActivity,
  AgentBackend,
  OutputParser,
  ProcessExit,
  SpawnSpec,
} from '../../src/agents/types.js';
import { isAlive, makeTask, tempDir, waitFor } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

/** A parser that records what it saw and returns the raw exit. */
class RecordingParser implements OutputParser {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  exit: ProcessExit | undefined;
  constructor(private readonly classify: (line: string) => readonly AgentActivity[] = () => []) {}
  onStdoutLine(line: string): readonly AgentActivity[] {
    this.stdout.push(line);
    return this.classify(line);
  }
  onStderrLine(line: string): readonly AgentActivity[] {
    this.stderr.push(line);
    return [];
  }
  finish(exit: ProcessExit) {
    this.exit = exit;
    return {
      ok: true as const,
      report: '',
      usage: {
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0,
        costSource: 'none' as const,
      },
    };
  }
}

function shSpec(script: string): SpawnSpec {
  return { command: script, args: [], env: {}, stdin: null, shell: true };
}

async function readPid(file: string): Promise<number> {
  expect(await waitFor(async () => (await readFile(file, 'utf8').catch(() => '')).trim() !== '')).toBe(true);
  return Number((await readFile(file, 'utf8')).trim());
}

describe('runAgent with the command backend', () => {
  it('passes the prompt on stdin and the stream identity in the environment, and reads the report file', async () => {
    const task = makeTask(dir, { files: ['src/a.ts', 'src/b/**'] });
    const backend = commandBackend(
      'cat > stdin.txt; printf "%s|%s|%s|%s" "$MAESTRO_RUN_ID" "$MAESTRO_STREAM_ID" "$MAESTRO_STREAM_TITLE" "$MAESTRO_ROLE" > ids.txt; printf "%s" "$MAESTRO_FILES" > files.txt; cp "$MAESTRO_PROMPT_FILE" prompt-copy.txt; echo working; echo "All done." > "$MAESTRO_REPORT_FILE"',
    );
    const activities: AgentActivity[] = [];
    const outcome = await runAgent(backend, task, { onActivity: (a) => activities.push(a) });
    expect(outcome).toMatchObject({ ok: true, report: 'All done.' });
    expect(await readFile(join(dir, 'stdin.txt'), 'utf8')).toBe(task.prompt);
    expect(await readFile(join(dir, 'prompt-copy.txt'), 'utf8')).toBe(task.prompt);
    expect(await readFile(join(dir, 'ids.txt'), 'utf8')).toBe('run-1|api|API layer|backend');
    expect(await readFile(join(dir, 'files.txt'), 'utf8')).toBe('src/a.ts\nsrc/b/**');
    expect(activities).toContainEqual({ kind: 'output', text: 'working' });
  });

  it('never interpolates plan text into the command line', async () => {
    const task = makeTask(dir, { streamTitle: '$(touch pwned)', prompt: '`touch pwned2`' });
    const outcome = await runAgent(commandBackend('echo "$MAESTRO_STREAM_TITLE"; cat'), task);
    expect(outcome).toMatchObject({ ok: true, report: '$(touch pwned)\n`touch pwned2`' });
    await expect(readFile(join(dir, 'pwned'))).rejects.toThrow();
    await expect(readFile(join(dir, 'pwned2'))).rejects.toThrow();
  });

  it('uses the tail of stdout as the report when no report file is written', async () => {
    const outcome = await runAgent(commandBackend('echo line1; echo line2'), makeTask(dir));
    expect(outcome).toMatchObject({ ok: true, report: 'line1\nline2' });
  });

  it('reports a non-zero exit with the end of stderr', async () => {
    const outcome = await runAgent(commandBackend('echo boom >&2; exit 3'), makeTask(dir));
    expect(outcome).toMatchObject({ ok: false, code: 'exit-nonzero' });
    if (!outcome.ok) expect(outcome.message).toMatch(/code 3:\nboom/);
  });

  it('reports a crash by signal', async () => {
    const outcome = await runAgent(commandBackend('kill -USR1 $$'), makeTask(dir));
    expect(outcome).toMatchObject({ ok: false, code: 'crashed' });
    if (!outcome.ok) expect(outcome.message).toContain('SIGUSR1');
  });

  it('reports a command the shell cannot find as a missing binary', async () => {
    const outcome = await runAgent(commandBackend('maestro-no-such-agent-xyz --go'), makeTask(dir));
    expect(outcome).toMatchObject({ ok: false, code: 'missing-binary' });
  });

  it('writes raw output to the log file', async () => {
    const logFile = join(dir, 'logs', 'agent.log');
    await runAgent(commandBackend('echo out-line; echo err-line >&2'), makeTask(dir), { logFile });
    const log = await readFile(logFile, 'utf8');
    expect(log).toContain('out-line\n');
    expect(log).toContain('err-line\n');
  });

  it('fails with a clear message when the worktree does not exist', async () => {
    const outcome = await runAgent(commandBackend('true'), makeTask(join(dir, 'missing')));
    expect(outcome).toMatchObject({ ok: false, code: 'config' });
    if (!outcome.ok) expect(outcome.message).toContain('working directory does not exist');
  });
});

describe('AgentProcess limits', () => {
  it('stops a hung agent on the stall timeout and kills its whole process group, grandchild included', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const script = `sleep 1000 & echo $! > ${pidFile}; echo started; wait`;
    const task = makeTask(dir);
    const outcome = runAgent(commandBackend(script), task, { stallMs: 300, graceMs: 500 });
    const grandchild = await readPid(pidFile);
    expect(isAlive(grandchild)).toBe(true);
    expect(await outcome).toMatchObject({ ok: false, code: 'stalled' });
    expect(await waitFor(() => !isAlive(grandchild))).toBe(true);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const script = `trap "" TERM; sleep 1000 & echo $! > ${pidFile}; wait`;
    const parser = new RecordingParser();
    const started = Date.now();
    const agent = new AgentProcess(shSpec(script), makeTask(dir), parser, { stallMs: 200, graceMs: 300 });
    const run = agent.run();
    const grandchild = await readPid(pidFile);
    const exit = await run;
    expect(exit).toMatchObject({ stoppedBy: 'stall', signal: 'SIGKILL', stopLimitMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(await waitFor(() => !isAlive(grandchild))).toBe(true);
  });

  it('stops an agent that keeps printing at the wall timeout', async () => {
    const outcome = await runAgent(
      commandBackend('while true; do echo tick; sleep 0.05; done'),
      makeTask(dir),
      {
        timeoutMs: 400,
        stallMs: 10_000,
        graceMs: 500,
      },
    );
    expect(outcome).toMatchObject({ ok: false, code: 'timeout' });
    if (!outcome.ok) expect(outcome.message).toContain('400 ms');
  });

  it('does not count retry notices as progress, so a retry loop trips the stall timer', async () => {
    const parser = new RecordingParser((line) => (line === 'retry' ? [{ kind: 'retry', attempt: 1 }] : []));
    const agent = new AgentProcess(
      shSpec('while true; do echo retry; sleep 0.05; done'),
      makeTask(dir),
      parser,
      {
        stallMs: 400,
        graceMs: 500,
      },
    );
    const exit = await agent.run();
    expect(exit.stoppedBy).toBe('stall');
    expect(parser.stdout.length).toBeGreaterThan(3);
  });

  it("does not count a Gemini retry notice's stack trace as progress either", async () => {
    // The Gemini CLI prints the error object, stack frames and all, after each "Attempt N failed" line.
    const parser = geminiBackend().createParser(makeTask(dir));
    const notice = [
      'Attempt 1 failed with status 503. Retrying with backoff... _ApiError: {"error":{"code":503}}',
      '    at throwErrorIfNotOK (file:///cli.js:1:1)',
      '    at async retryWithBackoff (file:///cli.js:2:2) {',
      '  status: 503',
      '}',
    ];
    const script = `while true; do printf '%s\\n' ${notice.map((l) => `'${l}'`).join(' ')} >&2; sleep 0.05; done`;
    const agent = new AgentProcess(shSpec(script), makeTask(dir), parser, { stallMs: 400, graceMs: 500 });
    const exit = await agent.run();
    expect(exit.stoppedBy).toBe('stall');
    expect(parser.finish(exit)).toMatchObject({ ok: false, code: 'retry-storm' });
    // A line that is not part of the notice is progress again.
    expect(parser.onStderrLine('Loaded cached credentials.')).toEqual([
      { kind: 'output', text: 'Loaded cached credentials.' },
    ]);
  });

  it('stops on abort, and records a budget stop when the abort reason is "budget"', async () => {
    for (const reason of ['user', 'budget'] as const) {
      const controller = new AbortController();
      const activities: AgentActivity[] = [];
      const run = runAgent(commandBackend('echo ready; sleep 1000'), makeTask(dir), {
        signal: controller.signal,
        graceMs: 500,
        onActivity: (a) => {
          activities.push(a);
          controller.abort(reason);
        },
      });
      expect(await run).toMatchObject({ ok: false, code: reason === 'budget' ? 'budget' : 'killed' });
    }
  });

  it('does not start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await runAgent(commandBackend('touch started'), makeTask(dir), {
      signal: controller.signal,
    });
    expect(outcome).toMatchObject({ ok: false, code: 'killed' });
    await expect(readFile(join(dir, 'started'))).rejects.toThrow();
  });

  it('stop() is safe to call twice and after exit', async () => {
    const agent = new AgentProcess(shSpec('echo hi; sleep 1000'), makeTask(dir), new RecordingParser(), {
      graceMs: 500,
    });
    const run = agent.run();
    await waitFor(() => agent.pid !== undefined);
    agent.stop('abort');
    agent.stop('timeout');
    const exit = await run;
    expect(exit.stoppedBy).toBe('abort');
    agent.stop('abort');
  });

  it('cleans up what the agent left running in its group after a normal exit', async () => {
    const pidFile = join(dir, 'bg.pid');
    const started = Date.now();
    const outcome = await runAgent(
      commandBackend(`sleep 1000 & echo $! > ${pidFile}; echo done`),
      makeTask(dir),
      {
        graceMs: 500,
      },
    );
    expect(outcome).toMatchObject({ ok: true, report: 'done' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const leftover = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await waitFor(() => !isAlive(leftover))).toBe(true);
  });

  it('keeps memory bounded with a huge line and huge output', async () => {
    const parser = new RecordingParser();
    // 20 MB on one line, then 200k short lines (~1.3 MB).
    const script = `head -c 20000000 /dev/zero | tr '\\0' x; echo; seq 1 200000; head -c 3000000 /dev/zero | tr '\\0' y >&2`;
    const logFile = join(dir, 'agent.log');
    const agent = new AgentProcess(shSpec(script), makeTask(dir), parser, {
      maxLineChars: 1000,
      tailChars: 4096,
      maxLogBytes: 1_000_000,
      logFile,
    });
    const exit = await agent.run();
    expect(exit.exitCode).toBe(0);
    expect(parser.stdout[0]).toBe('x'.repeat(1000));
    expect(parser.stdout.length).toBe(200_001);
    expect(parser.stdout.at(-1)).toBe('200000');
    expect(parser.stderr).toEqual(['y'.repeat(1000)]);
    expect(exit.stdoutTail.length).toBeLessThanOrEqual(4096);
    expect(exit.stdoutTail.endsWith('199999\n200000\n')).toBe(true);
    expect(exit.stderrTail.length).toBeLessThanOrEqual(4096);
    const log = await readFile(logFile, 'utf8');
    expect(log.length).toBeLessThan(1_100_000);
    expect(log).toContain('log truncated');
  });

  it('turns a missing executable into a value', async () => {
    const backend: AgentBackend = {
      name: 'test',
      spawnSpec: () => ({
        command: join(dir, 'no-such-agent'),
        args: ['-p'],
        env: {},
        stdin: 'hi',
        shell: false,
      }),
      createParser: () => new RecordingParser(),
    };
    const parser = new RecordingParser();
    const exit = await new AgentProcess(backend.spawnSpec(makeTask(dir)), makeTask(dir), parser).run();
    expect(exit).toMatchObject({ exitCode: null, stoppedBy: null, spawnErrorCode: 'ENOENT' });
    expect(exit.spawnError).toContain('ENOENT');
  });

  it('writes the spec files before spawning', async () => {
    const spec: SpawnSpec = {
      ...shSpec('cat role.md'),
      makeDirs: [join(dir, 'tmp', 'a')],
      writeFiles: [{ path: join(dir, 'role.md'), content: 'be nice\n' }],
    };
    const parser = new RecordingParser();
    await new AgentProcess(spec, makeTask(dir), parser).run();
    expect(parser.stdout).toEqual(['be nice']);
    await writeFile(join(dir, 'tmp', 'a', 'x'), '');
  });
});
