import { beforeAll, describe, expect, it } from 'vitest';
import {
  countedFiles,
  ESTIMATE_MODEL,
  ESTIMATE_MODEL_MARKDOWN,
  estimatePlan,
  estimateStream,
} from '../../src/analyze/estimate.js';
import { loadBuiltinPrices, type PriceTable } from '../../src/analyze/prices.js';
import { createDag, waves } from '../../src/graph/index.js';

let prices: PriceTable;
beforeAll(async () => {
  prices = await loadBuiltinPrices();
});

describe('estimateStream', () => {
  it('counts files with a floor, a cap and a guess for unexpanded globs', () => {
    const w = { validationCommands: 0, model: 'opus' };
    expect(countedFiles({ ...w, files: 0, unexpandedGlobs: 0 })).toBe(1);
    expect(countedFiles({ ...w, files: 2, unexpandedGlobs: 1 })).toBe(
      2 + ESTIMATE_MODEL.filesPerUnexpandedGlob,
    );
    expect(countedFiles({ ...w, files: 500, unexpandedGlobs: 0 })).toBe(ESTIMATE_MODEL.maxFilesCounted);
  });

  it('follows the documented model and prices at the stream’s model', () => {
    const e = estimateStream({ files: 2, unexpandedGlobs: 0, validationCommands: 1, model: 'opus' }, prices);
    expect(e.minutes).toBe(6 + 4 * 2 + 2);
    expect(e.inputTokens).toBe(200_000 + 2 * 150_000);
    expect(e.outputTokens).toBe(5_000 + 2 * 8_000);
    // 500k input: 5% uncached × 4 + 85% reads × 0.2 + 10% writes × 5; 21k output × 20 (µ$ per token)
    const expected = (25_000 * 4 + 425_000 * 0.2 + 50_000 * 5 + 21_000 * 20) / 1e6;
    expect(e.costUsd).toBeCloseTo(expected, 4);
    expect(e.priced).toBe(true);
    const cheaper = estimateStream(
      { files: 2, unexpandedGlobs: 0, validationCommands: 1, model: 'sonnet' },
      prices,
    );
    expect(cheaper.costUsd).toBeLessThan(e.costUsd);
    expect(
      estimateStream({ files: 1, unexpandedGlobs: 0, validationCommands: 0, model: '??' }, prices),
    ).toMatchObject({
      costUsd: 0,
      priced: false,
    });
  });

  it('documents itself with the constants it uses', () => {
    expect(ESTIMATE_MODEL_MARKDOWN).toContain('6 + 4 × files + 2 × validation commands');
    expect(ESTIMATE_MODEL_MARKDOWN).toContain('data/prices.json');
  });
});

describe('estimatePlan', () => {
  it('sums tokens and simulates wall time three ways', () => {
    const dag = createDag([
      { id: 'a', dependsOn: [] },
      { id: 'b', dependsOn: [] },
      { id: 'c', dependsOn: ['a'] },
    ]);
    const est = (minutes: number) => ({ minutes, inputTokens: 10, outputTokens: 1, costUsd: 0.5 });
    const streams = [
      { id: 'a', estimate: est(10) },
      { id: 'b', estimate: est(30) },
      { id: 'c', estimate: est(10) },
    ];
    const byId = (id: string) => (id === 'b' ? 30 : 10);
    const e = estimatePlan(streams, dag, waves(dag, 2, byId), 2, 'opus');
    expect(e).toMatchObject({ model: 'opus', inputTokens: 30, outputTokens: 3, costUsd: 1.5 });
    // waves: [b, a] = 30, [c] = 10; dynamic: a 0-10, b 0-30, c 10-20 → 30
    expect(e.minutes).toEqual({ sequential: 50, waves: 40, dynamic: 30 });
    expect(estimatePlan(streams, dag, waves(dag, 1, byId), 1, 'opus').minutes).toEqual({
      sequential: 50,
      waves: 50,
      dynamic: 50,
    });
  });
});
