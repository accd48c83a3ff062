/**
 * How backends whose CLI reports tokens but no cost (Codex, Gemini) get a cost: the caller injects a
 * pricer (normally `priceUsage` over `data/prices.json` from `src/analyze/prices.ts`), so this layer
 * does not import from the planning side and tests can pin prices.
 */
import type { Usage } from './types.js';

/** Token counts to price; `inputTokens` excludes cache reads and writes. */
export interface TokenCounts {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
}

/** USD for `tokens` at `model`'s prices, or null when the model is unknown. */
export type Pricer = (model: string, tokens: TokenCounts) => number | null;

/** A `Usage` from token counts: priced when a pricer knows the model, else cost 0 with source `none`. */
export function pricedUsage(
  pricer: Pricer | undefined,
  parts: readonly (TokenCounts & { model: string })[],
): Usage {
  let inputTokens = 0;
  let outputTokens = 0;
  let cacheReadTokens = 0;
  let cacheWriteTokens = 0;
  let costUsd = 0;
  let priced = parts.length > 0 && pricer !== undefined;
  for (const part of parts) {
    inputTokens += part.inputTokens;
    outputTokens += part.outputTokens;
    cacheReadTokens += part.cacheReadTokens;
    cacheWriteTokens += part.cacheWriteTokens;
    const cost = pricer?.(part.model, part) ?? null;
    if (cost === null) priced = false;
    else costUsd += cost;
  }
  return {
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    costUsd: priced ? costUsd : 0,
    costSource: priced ? 'priced' : 'none',
  };
}
