import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, findConfigFile, loadConfig, parseConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'maestro-config-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(rel: string, text: string): Promise<string> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

/** The message of the ConfigError `fn` throws. */
async function configError(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('finds a YAML config upward from a nested directory', async () => {
    const file = await write(
      'maestro.config.yaml',
      [
        'agent: claude',
        'model: sonnet',
        'models:',
        '  testing: haiku',
        'budgets: { runUsd: 20, streamUsd: 3.5 }',
        'validate: [npm test, npm run lint]',
        'maxParallel: 4',
        'schedule: dag',
        'retries: 2',
        'timeouts: { streamMinutes: 30, stallMinutes: 5 }',
        'ownership: warn',
        '',
      ].join('\n'),
    );
    await mkdir(path.join(root, 'packages/app/src'), { recursive: true });
    const loaded = await loadConfig(path.join(root, 'packages/app/src'));
    expect(loaded).toEqual({
      path: file,
      config: {
        agent: 'claude',
        model: 'sonnet',
        models: { testing: 'haiku' },
        budgets: { runUsd: 20, streamUsd: 3.5 },
        validate: ['npm test', 'npm run lint'],
        maxParallel: 4,
        schedule: 'dag',
        retries: 2,
        timeouts: { streamMinutes: 30, stallMinutes: 5 },
        ownership: 'warn',
      },
    });
  });

  it('prefers the nearest file and reads JSON', async () => {
    await write('maestro.config.yaml', 'maxParallel: 2\n');
    const inner = await write(
      'sub/maestro.config.json',
      '{ "maxParallel": 8, "agent": "command", "agentCommand": "./agent.sh" }\n',
    );
    expect(await loadConfig(path.join(root, 'sub'))).toEqual({
      path: inner,
      config: { maxParallel: 8, agent: 'command', agentCommand: './agent.sh' },
    });
  });

  it('returns null when there is no config, and treats an empty YAML file as empty config', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'maestro-noconfig-'));
    try {
      // Nothing above a fresh temp dir is expected to hold a maestro config.
      expect(await findConfigFile(empty)).toBeNull();
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    const file = await write('maestro.config.yml', '# nothing yet\n');
    expect(await loadConfig(root)).toEqual({ path: file, config: {} });
  });

  it('refuses two config files in one directory', async () => {
    await write('maestro.config.json', '{}');
    await write('maestro.config.yaml', '{}');
    expect(await configError(() => loadConfig(root))).toMatch(
      /has both maestro\.config\.json and maestro\.config\.yaml/,
    );
  });

  it('reports YAML syntax errors with file:line:col', async () => {
    const file = await write('maestro.config.yaml', 'agent: claude\nmodels:\n  testing: [haiku\n');
    expect(await configError(() => loadConfig(root))).toMatch(
      new RegExp(`^${file}:\\d+:\\d+: invalid YAML: `),
    );
  });

  it('reports JSON syntax errors with file:line', async () => {
    const file = await write('maestro.config.json', '{\n  "agent": "claude",\n  "retries": 1,\n}\n');
    expect(await configError(() => loadConfig(root))).toMatch(new RegExp(`^${file}:4: invalid JSON: `));
  });

  it('reports schema problems with the line of the offending value', async () => {
    const file = await write(
      'maestro.config.yaml',
      ['agent: claude', 'maxParallel: 0', 'budgets:', '  runUsd: -1', 'schedul: dag', ''].join('\n'),
    );
    const message = await configError(() => loadConfig(root));
    expect(message.split('\n')[0]).toBe('invalid configuration');
    expect(message).toContain(`${file}:2: Too small: expected number to be >=1 → at maxParallel`);
    expect(message).toContain(`${file}:4: Too small: expected number to be >0 → at budgets.runUsd`);
    expect(message).toMatch(new RegExp(`${file}:\\d+: Unrecognized key: "schedul"`));
  });

  it('rejects unknown agents with the allowed values', () => {
    expect(() => parseConfig('{ "agent": "gpt" }', 'maestro.config.json')).toThrow(
      /maestro\.config\.json:1: Invalid option: expected one of "claude"\|"codex"\|"gemini"\|"command"\|"demo" → at agent/,
    );
  });
});

describe('published JSON Schema', () => {
  it('equals z.toJSONSchema of the config schema (run `npm run schemas` to update)', async () => {
    const committed = JSON.parse(
      await readFile(new URL('../../schema/maestro.config.schema.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(committed).toEqual(configJsonSchema());
  });
});
