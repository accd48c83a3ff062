/** How `maestro run` settles options (flags over config over plan over defaults) and models per role. */
import { describe, expect, it } from 'vitest';
import { backendAcceptsModel, defaultModelFor } from '../../src/agents/registry.js';
import { modelChoices, resolveRunOptions, type RunFlags } from '../../src/cli/run-options.js';
import { loadAnalysis } from '../../src/cli/load-analysis.js';
import { makeTempDir, writeTree } from '../helpers/repo.js';

const defaults: RunFlags = {
  schedule: 'dag',
  validate: ['npm test'],
  onFailure: 'continue',
  retries: 1,
  base: 'HEAD',
  timeout: 60 * 60_000,
  stallTimeout: 10 * 60_000,
  ownership: 'fail',
};

describe('resolveRunOptions', () => {
  it('takes the config file over built-in defaults, and flags given on the command line over both', () => {
    const config = {
      schedule: 'sequential' as const,
      retries: 3,
      maxParallel: 2,
      validate: ['make lint'],
      timeouts: { streamMinutes: 5, stallMinutes: 1 },
      budgets: { runUsd: 10, streamUsd: 2 },
      ownership: 'warn' as const,
    };
    const fromConfig = resolveRunOptions({
      agent: 'claude',
      flags: defaults,
      given: () => false,
      config,
      planMaxParallel: 7,
    });
    expect(fromConfig).toMatchObject({
      schedule: 'sequential',
      retries: 3,
      maxParallel: 2,
      validate: ['make lint', 'npm test'],
      timeoutMs: 300_000,
      stallMs: 60_000,
      budgetUsd: 10,
      streamBudgetUsd: 2,
      ownership: 'warn',
    });
    const fromFlags = resolveRunOptions({
      agent: 'claude',
      flags: { ...defaults, retries: 0, schedule: 'waves', budgetUsd: 1, maxParallel: 4, maxTurns: 9 },
      given: (name) => name === 'retries' || name === 'schedule',
      config,
      planMaxParallel: 7,
    });
    expect(fromFlags).toMatchObject({
      retries: 0,
      schedule: 'waves',
      budgetUsd: 1,
      maxParallel: 4,
      maxTurns: 9,
    });
    expect(
      resolveRunOptions({
        agent: 'claude',
        flags: defaults,
        given: () => false,
        config: {},
        planMaxParallel: 7,
      }).maxParallel,
    ).toBe(7);
  });
});

describe('models per role', () => {
  it('knows which models each backend can run and their defaults', () => {
    expect(backendAcceptsModel('codex', 'sonnet')).toBe(false);
    expect(backendAcceptsModel('codex', 'gpt-5.5')).toBe(true);
    expect(backendAcceptsModel('gemini', 'gemini-2.5-flash')).toBe(true);
    expect(backendAcceptsModel('claude', 'gemini-2.5-flash')).toBe(false);
    expect(backendAcceptsModel('claude', 'claude-haiku-5-5')).toBe(true);
    expect(defaultModelFor('codex')).toBe('gpt-5.5');
  });

  it('applies --model, config models[role], the plan hint and the role file, in that order', async () => {
    const tmp = makeTempDir();
    try {
      writeTree(tmp.dir, {
        'plan.md': [
          '# Plan',
          '',
          '## Phase 1: Database migration',
          '',
          'Depends on: none',
          '',
          'Files:',
          '- `migrations/0001_init.py` (create)',
          '',
          '## Phase 2: Tests',
          '',
          'Depends on: Phase 1',
          '',
          'Model: sonnet',
          '',
          'Files:',
          '- `tests/test_init.py` (create)',
          '',
        ].join('\n'),
      });
      const plan = `${tmp.dir}/plan.md`;
      const models = async (agent: string, flags: { model?: string }, config: Record<string, unknown>) =>
        (await loadAnalysis(plan, modelChoices(agent, flags, config))).streams.map((s) => s.model);
      // Role file (migration: opus), then the plan's Model: hint.
      expect(await models('claude', {}, {})).toEqual(['opus', 'sonnet']);
      // Config per role beats the hint.
      expect(await models('claude', {}, { models: { testing: 'haiku' } })).toEqual(['opus', 'haiku']);
      // --model beats everything.
      expect(await models('claude', { model: 'haiku' }, { models: { testing: 'opus' } })).toEqual([
        'haiku',
        'haiku',
      ]);
      // Claude aliases from the plan and role files mean nothing to Codex: its default model instead.
      expect(await models('codex', {}, {})).toEqual(['gpt-5.5', 'gpt-5.5']);
      expect(await models('codex', {}, { models: { testing: 'gpt-5.4-mini' } })).toEqual([
        'gpt-5.5',
        'gpt-5.4-mini',
      ]);
    } finally {
      tmp.cleanup();
    }
  });
});
