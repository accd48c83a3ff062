import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isDiagnostic } from '../../src/analyze/diagnostics.js';
import {
  builtinPricesFile,
  loadBuiltinPrices,
  loadPrices,
  parsePriceTable,
  priceUsage,
  resolveModel,
  type PriceTable,
} from '../../src/analyze/prices.js';

let table: PriceTable;
beforeAll(async () => {
  table = await loadBuiltinPrices();
});

describe('price table', () => {
  it('ships a table that matches the schema (it is not validated again at run time)', async () => {
    const checked = await loadPrices(builtinPricesFile);
    expect(isDiagnostic(checked)).toBe(false);
    expect(checked).toEqual(table);
  });

  it('ships the Claude Code 2.1.330 prices and aliases', () => {
    expect(table.aliases).toMatchObject({
      opus: 'claude-opus-5-5',
      sonnet: 'claude-sonnet-5-5',
      haiku: 'claude-haiku-5-5',
    });
    expect(table.models['claude-opus-5-5']).toEqual({ input: 4, output: 20, cacheWrite: 5, cacheRead: 0.2 });
    expect(table.models['claude-sonnet-5-5']).toMatchObject({
      input: 2,
      output: 10,
      cacheWrite: 2.5,
      cacheRead: 0.1,
    });
    expect(table.models['claude-haiku-4-5']).toEqual({
      input: 1,
      output: 5,
      cacheWrite: 1.25,
      cacheRead: 0.1,
    });
    expect(table.models['claude-opus-4-5']).toEqual({
      input: 5,
      output: 25,
      cacheWrite: 6.25,
      cacheRead: 0.5,
    });
    for (const [id, price] of Object.entries(table.models)) {
      if (!id.startsWith('claude-')) expect(price.note, id).toBeTruthy();
    }
  });

  it('resolves aliases, case, provider prefixes, context suffixes and dated ids', () => {
    expect(resolveModel('Opus', table)).toBe('claude-opus-5-5');
    expect(resolveModel('anthropic/claude-sonnet-4-5', table)).toBe('claude-sonnet-4-5');
    expect(resolveModel('claude-opus-5-5[1m]', table)).toBe('claude-opus-5-5');
    expect(resolveModel('claude-sonnet-4-20250514', table)).toBe('claude-sonnet-4');
    expect(resolveModel('claude-sonnet-4-5-20250929', table)).toBe('claude-sonnet-4-5');
    expect(resolveModel('gpt-6.1-sol', table)).toBeNull();
  });
});

describe('priceUsage', () => {
  it('is Σ tokens × price / 1e6', () => {
    const usage = {
      inputTokens: 1000,
      outputTokens: 2000,
      cacheReadTokens: 100_000,
      cacheWriteTokens: 10_000,
    };
    // opus 5.5: 1000×4 + 2000×20 + 100000×0.2 + 10000×5 = 4000 + 40000 + 20000 + 50000 = 114000 µ$
    expect(priceUsage('opus', usage, table)).toBeCloseTo(0.114, 10);
    expect(priceUsage('sonnet', { inputTokens: 1_000_000, outputTokens: 0 }, table)).toBe(2);
  });

  it('uses the long-context tier when asked and the model has one', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    expect(priceUsage('haiku', usage, table)).toBeCloseTo(0.6, 10);
    expect(priceUsage('haiku', usage, table, { longContext: true })).toBeCloseTo(3, 10);
    expect(priceUsage('opus', usage, table, { longContext: true })).toBe(24);
  });

  it('returns null for an unknown model', () => {
    expect(priceUsage('mystery', { inputTokens: 1, outputTokens: 1 }, table)).toBeNull();
  });
});

describe('loading', () => {
  it('turns invalid tables into diagnostics', async () => {
    const bad = parsePriceTable({ aliases: {}, models: { x: { input: -1 } } }, 'p.json');
    expect(isDiagnostic(bad) && bad.code).toBe('bad-prices');
    const dir = await mkdtemp(join(tmpdir(), 'maestro-prices-'));
    try {
      await writeFile(join(dir, 'p.json'), '{ not json');
      const result = await loadPrices(join(dir, 'p.json'));
      expect(isDiagnostic(result) && result.message).toMatch(/cannot read price table/);
      await writeFile(
        join(dir, 'q.json'),
        JSON.stringify({ aliases: {}, models: { m: { input: 1, output: 2, cacheWrite: 1, cacheRead: 0 } } }),
      );
      expect(await loadPrices(join(dir, 'q.json'))).toEqual({
        aliases: {},
        models: { m: { input: 1, output: 2, cacheWrite: 1, cacheRead: 0 } },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
