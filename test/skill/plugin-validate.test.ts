/**
 * Validates the repository as a Claude Code plugin with the real `claude` CLI (installed under test/agents-cli),
 * isolated from the developer's own Claude configuration and from the network.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binDir } from '../standins/env.js';

const exec = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const claude = path.join(binDir, 'claude');

let home: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'maestro-claude-home-'));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function validate(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(claude, ['plugin', 'validate', '--strict', dir], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: home,
        CLAUDE_CONFIG_DIR: path.join(home, '.claude'),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        NO_COLOR: '1',
      },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('claude plugin validate', () => {
  it('accepts the repository as plugin plan-maestro with its skill and role agents', async () => {
    const result = await validate(repoRoot);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('plan-maestro:maestro');
    expect(result.stdout).toContain('plan-maestro:migration');
    expect(result.stdout).toMatch(/Validation passed/);
  });

  it('rejects a broken manifest (the check is real)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maestro-bad-plugin-'));
    try {
      await cp(path.join(repoRoot, 'skills'), path.join(dir, 'skills'), { recursive: true });
      await cp(path.join(repoRoot, '.claude-plugin'), path.join(dir, '.claude-plugin'), { recursive: true });
      await writeFile(
        path.join(dir, '.claude-plugin', 'plugin.json'),
        '{ "name": "Plan Maestro!", "version": 3 }\n',
      );
      const result = await validate(dir);
      expect(result.code).not.toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
