import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDemo, globToRegExp, newFileContent } from '../../src/agents/demo-agent.js';
import { runAgent } from '../../src/agents/process.js';
import { createBackend } from '../../src/agents/registry.js';
import type { AgentActivity } from '../../src/agents/types.js';
import { makeTask, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let agentPath: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('maestro-demo-'));
  // The demo agent ships compiled in dist/; compile the source here so the test does not depend on a build.
  const source = await readFile(new URL('../../src/agents/demo-agent.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  agentPath = join(dir, 'demo-agent.mjs');
  await writeFile(agentPath, outputText);
});
afterAll(async () => {
  await cleanup();
});

const stream = { runId: 'r1', streamId: 'models', title: 'Data models', role: 'backend', files: [] };

describe('demo agent', () => {
  it('writes a header comment in the language of each file', () => {
    expect(newFileContent('src/a.ts', stream)).toMatch(/^\/\/ maestro demo: stream models — Data models/);
    expect(newFileContent('app/x.py', stream)).toMatch(/^# maestro demo/);
    expect(newFileContent('db/001.sql', stream)).toMatch(/^-- maestro demo/);
    expect(newFileContent('README.md', stream)).toMatch(/^<!-- maestro demo.* -->$/m);
    expect(JSON.parse(newFileContent('cfg.json', stream))).toEqual({
      maestroDemo: { stream: 'models', title: 'Data models' },
    });
  });

  it('matches globs like owned-file patterns', () => {
    expect(globToRegExp('src/**/*.ts').test('src/a.ts')).toBe(true);
    expect(globToRegExp('src/**/*.ts').test('src/x/y/a.ts')).toBe(true);
    expect(globToRegExp('src/*.ts').test('src/x/a.ts')).toBe(false);
    expect(globToRegExp('tests/{a,b}.py').test('tests/b.py')).toBe(true);
  });

  it('creates, edits, is idempotent, and skips globs without matches', async () => {
    const root = join(dir, 'unit');
    await mkdir(join(root, 'src', 'models'), { recursive: true });
    await writeFile(join(root, 'src', 'models', 'user.ts'), 'export {};\n');
    const files = ['src/new.py', 'src/models/*.ts', 'docs/**/*.md'];
    const first = applyDemo(root, { ...stream, files });
    expect(first).toEqual([
      { path: 'src/new.py', action: 'created' },
      { path: 'src/models/user.ts', action: 'edited' },
      { path: 'docs/**/*.md', action: 'skipped', why: 'glob matches no existing file' },
    ]);
    expect(await readFile(join(root, 'src', 'models', 'user.ts'), 'utf8')).toBe(
      'export {};\n// maestro demo: stream models — Data models (role backend)\n',
    );
    const second = applyDemo(root, { ...stream, files });
    expect(second.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'skipped']);
  });

  it('runs through runAgent as the demo backend and writes a completion report', async () => {
    const root = join(dir, 'wt');
    await mkdir(root, { recursive: true });
    const task = makeTask(root, {
      files: ['src/api/routes.ts', 'tests/test_api.py'],
      reportFile: join(dir, 'run', 'API_COMPLETE.md'),
    });
    const activities: AgentActivity[] = [];
    const outcome = await runAgent(createBackend('demo', { demoAgentPath: agentPath }), task, {
      onActivity: (a) => activities.push(a),
    });
    expect(outcome.ok).toBe(true);
    if (outcome.ok) expect(outcome.report).toContain('`src/api/routes.ts`: created');
    expect(await readFile(join(root, 'tests', 'test_api.py'), 'utf8')).toContain(
      '# maestro demo: stream api — API layer',
    );
    expect(activities).toContainEqual({ kind: 'edit', path: 'src/api/routes.ts' });
  });

  it('reports a missing demo agent script clearly', async () => {
    const root = join(dir, 'wt2');
    await mkdir(root, { recursive: true });
    const outcome = await runAgent(
      createBackend('demo', { demoAgentPath: join(dir, 'nope.js') }),
      makeTask(root),
    );
    expect(outcome).toMatchObject({ ok: false, code: 'exit-nonzero' });
    if (!outcome.ok) expect(outcome.message).toContain('Cannot find module');
  });
});
