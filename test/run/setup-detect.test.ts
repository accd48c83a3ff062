import { describe, expect, it } from 'vitest';
import { describeSetup, detectSetup, resolveSetup } from '../../src/run/setup-detect.js';

describe('setup detection', () => {
  it('takes the install from the root lockfile, one per ecosystem, with cache-preferring flags', () => {
    expect(detectSetup(['package.json', 'package-lock.json', 'src/x.ts'])).toEqual([
      { command: 'npm ci --prefer-offline --no-audit --no-fund', lockfile: 'package-lock.json', tool: 'npm' },
    ]);
    expect(detectSetup(['pnpm-lock.yaml']).map((d) => d.command)).toEqual([
      'pnpm install --frozen-lockfile --prefer-offline',
    ]);
    expect(detectSetup(['yarn.lock']).map((d) => d.command)).toEqual([
      'yarn install --frozen-lockfile --prefer-offline',
    ]);
    expect(detectSetup(['yarn.lock', '.yarnrc.yml']).map((d) => d.command)).toEqual([
      'yarn install --immutable',
    ]);
    expect(detectSetup(['bun.lock']).map((d) => d.tool)).toEqual(['bun']);
    expect(detectSetup(['uv.lock', 'pyproject.toml']).map((d) => d.command)).toEqual(['uv sync --frozen']);
    expect(detectSetup(['poetry.lock']).map((d) => d.tool)).toEqual(['poetry']);
    expect(detectSetup(['Gemfile.lock']).map((d) => d.command)).toEqual(['bundle install --prefer-local']);
    expect(detectSetup(['composer.lock']).map((d) => d.tool)).toEqual(['composer']);
    // A JS frontend and a Python backend: both installs, the lockfile beating requirements.txt.
    expect(detectSetup(['uv.lock', 'requirements.txt', 'package-lock.json']).map((d) => d.lockfile)).toEqual([
      'package-lock.json',
      'uv.lock',
    ]);
    // Only the root counts: a fixture's lockfile deep in the tree is not the project's install.
    expect(detectSetup(['test/fixtures/package-lock.json'])).toEqual([]);
  });

  it('lets flags win over the config file, the config over the plan, and any of them over detection', () => {
    const trackedPaths = ['package-lock.json'];
    expect(
      resolveSetup({ flags: ['make deps'], config: 'npm i', plan: ['x'], trackedPaths }).commands,
    ).toEqual(['make deps']);
    expect(resolveSetup({ flags: [], config: 'npm i', plan: ['x'], trackedPaths })).toMatchObject({
      commands: ['npm i'],
      source: 'config',
    });
    expect(resolveSetup({ flags: [], plan: ['x'], trackedPaths })).toMatchObject({
      commands: ['x'],
      source: 'plan',
    });
    const detected = resolveSetup({ flags: [], trackedPaths });
    expect(detected.source).toBe('detected');
    expect(describeSetup(detected)).toBe(
      'setup: npm ci --prefer-offline --no-audit --no-fund (detected from package-lock.json)',
    );
    // `setup: []` turns detection off.
    const off = resolveSetup({ flags: [], config: [], trackedPaths });
    expect(off.commands).toEqual([]);
    expect(describeSetup(off)).toBe('setup: none (turned off in maestro.config)');
    expect(describeSetup(resolveSetup({ flags: [], trackedPaths: [] }))).toMatch(
      /^setup: none \(no lockfile found/,
    );
    expect(
      resolveSetup({ flags: [], trackedPaths, teardownFlags: ['docker compose down'] }).teardown,
    ).toEqual(['docker compose down']);
  });
});
