/**
 * Maestro's Claude Code PreToolUse hook (src/agents/claude-hook.ts): the decision on crafted tool calls in a
 * real temp tree (symlinks included), and the built script run as Claude Code runs it — JSON on stdin,
 * a decision on stdout — including failing closed (exit 2) when its scope file is unusable.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeHookScript, claudeWriteGuard } from '../../src/agents/claude.js';
import { deniedWrite, type WriteScope } from '../../src/agents/claude-hook.js';
import { makeTask, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function tree(): Promise<{ root: string; worktree: string; scope: WriteScope }> {
  const t = await tempDir('maestro-hook-');
  cleanups.push(t.cleanup);
  const worktree = join(t.dir, 'wt');
  mkdirSync(join(worktree, 'src'), { recursive: true });
  mkdirSync(join(t.dir, 'elsewhere'));
  // A link inside the worktree to a directory outside it, and a dangling link whose target is outside.
  symlinkSync(join(t.dir, 'elsewhere'), join(worktree, 'src', 'out'));
  symlinkSync(join(t.dir, 'elsewhere', 'new.ts'), join(worktree, 'src', 'dangling.ts'));
  return {
    root: t.dir,
    worktree,
    scope: {
      worktree,
      owned: ['src/api.ts', 'src/out/x.ts', 'src/dangling.ts', 'docs/', 'tests/**/*.test.ts'],
      alsoAllowed: [join(t.dir, 'run', 'report.md')],
    },
  };
}

const write = (file: string, tool = 'Write', extra: Record<string, unknown> = {}) => ({
  hook_event_name: 'PreToolUse',
  tool_name: tool,
  tool_input: tool === 'NotebookEdit' ? { notebook_path: file } : { file_path: file, content: 'x' },
  ...extra,
});

describe('deniedWrite', () => {
  it('lets owned files, owned directories and globs through, absolute or relative', async () => {
    const { worktree, scope } = await tree();
    expect(deniedWrite(write(join(worktree, 'src/api.ts')), scope)).toBeNull();
    expect(deniedWrite(write('src/api.ts', 'Edit', { cwd: worktree }), scope)).toBeNull();
    expect(deniedWrite(write(join(worktree, 'docs/a/b.md'), 'MultiEdit'), scope)).toBeNull();
    expect(deniedWrite(write(join(worktree, 'tests/unit/a.test.ts')), scope)).toBeNull();
    // The completion report lives in the run directory, outside the worktree, and is allowed.
    expect(deniedWrite(write(scope.alsoAllowed[0] ?? ''), scope)).toBeNull();
    // Tools that write nothing are not the hook's business.
    expect(deniedWrite({ tool_name: 'Read', tool_input: { file_path: '/etc/passwd' } }, scope)).toBeNull();
  });

  it('refuses unowned files, paths outside the worktree, symlinks out of it and .git', async () => {
    const { root, worktree, scope } = await tree();
    expect(deniedWrite(write(join(worktree, 'src/other.ts')), scope)).toMatch(
      /^Maestro: src\/other\.ts is not one of this stream's files.*This stream owns: src\/api\.ts, /,
    );
    expect(deniedWrite(write(join(worktree, 'x.ipynb'), 'NotebookEdit'), scope)).toContain(
      'x.ipynb is not one of',
    );
    expect(deniedWrite(write(join(root, 'repo', 'evil.txt')), scope)).toContain(
      "is outside this stream's worktree",
    );
    expect(deniedWrite(write('../escape.txt', 'Write', { cwd: worktree }), scope)).toContain('outside');
    // Owned by name, but the path leads out of the worktree through a link.
    expect(deniedWrite(write(join(worktree, 'src/out/x.ts')), scope)).toContain('outside');
    expect(deniedWrite(write(join(worktree, 'src/dangling.ts')), scope)).toContain('outside');
    expect(deniedWrite(write(join(worktree, '.git/config')), scope)).toContain("git's own data");
    expect(deniedWrite(write(worktree), scope)).toContain('outside');
    expect(deniedWrite({ tool_name: 'Write', tool_input: {} }, scope)).toContain('names no file');
  });
});

function runHook(
  args: readonly string[],
  stdin: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [claudeHookScript(), ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

describe('the built hook script', () => {
  it('answers a denial as Claude Code reads it, and nothing for an owned file', async () => {
    const { root, worktree } = await tree();
    const task = makeTask(worktree, {
      promptFile: join(root, 'run', 'streams', 's1', 'prompt.md'),
      reportFile: join(root, 'run', 'streams', 's1', 'report.md'),
    });
    const guard = claudeWriteGuard(task, ['src/api.ts']);
    for (const file of guard.files) {
      mkdirSync(join(file.path, '..'), { recursive: true });
      writeFileSync(file.path, file.content);
    }
    // The settings name Maestro's script with this Node and the scope file; no plan text.
    const settings = JSON.parse(guard.files[1]?.content ?? '') as {
      hooks: { PreToolUse: { matcher: string; hooks: { command: string }[] }[] };
    };
    const entry = settings.hooks.PreToolUse[0];
    expect(entry?.matcher).toBe('Write|Edit|MultiEdit|NotebookEdit');
    const scopeFile = guard.files[0]?.path ?? '';
    expect(entry?.hooks[0]?.command).toBe(`'${process.execPath}' '${claudeHookScript()}' '${scopeFile}'`);
    expect(guard.settingsFile.startsWith(worktree)).toBe(false);

    const denied = await runHook([scopeFile], JSON.stringify(write(join(worktree, 'README.md'))));
    expect(denied.code).toBe(0);
    const answer = JSON.parse(denied.stdout) as { hookSpecificOutput: Record<string, string> };
    expect(answer.hookSpecificOutput).toMatchObject({
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
    });
    expect(answer.hookSpecificOutput['permissionDecisionReason']).toContain(
      "README.md is not one of this stream's files",
    );
    const allowed = await runHook([scopeFile], JSON.stringify(write(join(worktree, 'src/api.ts'))));
    expect(allowed).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('fails closed: exit 2 (Claude Code blocks the call) when the scope file or input is unusable', async () => {
    const { root, worktree } = await tree();
    const missing = await runHook([join(root, 'nope.json')], JSON.stringify(write(join(worktree, 'a'))));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Maestro's write check could not run");
    writeFileSync(join(root, 'bad.json'), '{"worktree": 1}');
    expect((await runHook([join(root, 'bad.json')], '{}')).code).toBe(2);
    expect((await runHook([], '{}')).code).toBe(2);
  });
});
