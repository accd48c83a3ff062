import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BackendConfigError,
  createBackend,
  defaultBackendName,
  findOnPath,
} from '../../src/agents/registry.js';
import { makeTask, tempDir } from './helpers.js';

describe('registry', () => {
  it('builds every backend and requires --agent-command for command', () => {
    for (const name of ['claude', 'codex', 'gemini', 'demo'] as const)
      expect(createBackend(name).name).toBe(name);
    expect(createBackend('command', { agentCommand: 'echo hi' }).name).toBe('command');
    expect(() => createBackend('command')).toThrow(BackendConfigError);
  });

  it('picks claude by default when it is on PATH, else codex, else gemini, else null', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      for (const name of ['codex', 'claude']) {
        await writeFile(join(dir, name), '#!/bin/sh\n');
        await chmod(join(dir, name), 0o755);
      }
      expect(defaultBackendName({ PATH: dir })).toBe('claude');
      expect(findOnPath('codex', { PATH: `/nonexistent:${dir}` })).toBe(join(dir, 'codex'));
      expect(defaultBackendName({ PATH: '/nonexistent' })).toBeNull();
    } finally {
      await cleanup();
    }
  });

  it('builds the spawn specs the protocols require', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, 'wt'));
      const task = makeTask(join(dir, 'wt'), {
        validationCommands: ['npm test'],
        budgetUsd: 2,
        model: 'sonnet',
      });
      const claude = createBackend('claude', {
        extraArgs: ['--x'],
        claude: { maxTurns: 30, mcpConfig: ['mcp.json'], newSessionId: () => 'uuid-1' },
      }).spawnSpec(task);
      expect(claude.args).toEqual([
        '-p',
        '--output-format',
        'stream-json',
        '--verbose',
        '--model',
        'sonnet',
        '--append-system-prompt-file',
        join(dir, 'wt', '.prompt.role.md'),
        '--permission-mode',
        'acceptEdits',
        '--allowedTools',
        'Read,Edit,Write,MultiEdit,Glob,Grep,TodoWrite,Bash(npm test:*)',
        '--max-turns',
        '30',
        '--max-budget-usd',
        '2',
        '--session-id',
        'uuid-1',
        '--mcp-config',
        'mcp.json',
        '--x',
      ]);
      expect(claude.stdin).toBe(task.prompt);
      expect(claude.writeFiles).toEqual([
        { path: join(dir, 'wt', '.prompt.role.md'), content: task.roleInstructions },
      ]);
      const resumed = createBackend('claude').spawnSpec({ ...task, resumeSessionId: 's-1' });
      expect(resumed.args).toContain('--resume');
      expect(resumed.args).not.toContain('--session-id');
      const codex = createBackend('codex').spawnSpec(task);
      expect(codex.args.slice(0, 10)).toEqual([
        'exec',
        '--json',
        '-C',
        join(dir, 'wt'),
        '-m',
        'sonnet',
        '-s',
        'workspace-write',
        '-c',
        'approval_policy="never"',
      ]);
      expect(codex.args.at(-1)).toBe('-');
      const gemini = createBackend('gemini').spawnSpec(task);
      expect(gemini.args).toEqual(
        expect.arrayContaining(['-o', 'stream-json', '-m', 'sonnet', '--yolo', '--skip-trust']),
      );
      expect(gemini.env['TMPDIR']).toBe(join(dir, 'wt', 'gemini-tmp'));
      const command = createBackend('command', { agentCommand: 'my-agent --go' }).spawnSpec(task);
      expect(command).toMatchObject({ command: 'my-agent --go', shell: true, stdin: task.prompt });
      expect(command.env['MAESTRO_FILES']).toBe('src/api.ts');
    } finally {
      await cleanup();
    }
  });
});
