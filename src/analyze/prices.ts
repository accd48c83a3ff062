/**
 * Token prices as data (`data/prices.json`), and pricing a usage record against them.
 * Loading is the only I/O here; `priceUsage` and `resolveModel` are pure.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import type { Diagnostic } from '../plan/types.js';
import { loadZod, once } from '../util/lazy.js';

function buildPriceTableSchema() {
  const { z } = loadZod();
  const rates = {
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cacheWrite: z.number().nonnegative(),
    cacheRead: z.number().nonnegative(),
  };
  return z.object({
    aliases: z.record(z.string(), z.string()),
    models: z.record(
      z.string(),
      z.object({
        ...rates,
        longContext: z.object({ above: z.number().positive(), ...rates }).optional(),
        note: z.string().optional(),
      }),
    ),
  });
}

const priceTableSchema = once(buildPriceTableSchema);

/** USD per million tokens for one model. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  readonly cacheWrite: number;
  readonly cacheRead: number;
  /** Higher rates that apply when a prompt is longer than `above` tokens (e.g. Haiku 5.5 above 100k). */
  readonly longContext?: {
    readonly above: number;
    readonly input: number;
    readonly output: number;
    readonly cacheWrite: number;
    readonly cacheRead: number;
  };
  /** Why a number is what it is, especially when assumed. */
  readonly note?: string;
}

/** The price table: model ids → prices, and aliases (`opus`) → model ids. */
export interface PriceTable {
  readonly aliases: Readonly<Record<string, string>>;
  readonly models: Readonly<Record<string, ModelPrice>>;
}

/** Token counts to price; structurally compatible with the agents' `Usage`. */
export interface TokenUsage {
  /** Uncached input tokens. */
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens?: number;
  readonly cacheWriteTokens?: number;
}

/** Where the built-in table lives: `<package>/data/prices.json`, from both `src/analyze` and `dist/analyze`. */
export const builtinPricesFile = fileURLToPath(new URL('../../data/prices.json', import.meta.url));

/** Validates parsed JSON as a price table; a `Diagnostic` (code `bad-prices`) when it is not one. */
export function parsePriceTable(json: unknown, source: string): PriceTable | Diagnostic {
  const result = priceTableSchema().safeParse(json);
  if (result.success) return stripUndefined(result.data);
  return {
    severity: 'error',
    code: 'bad-prices',
    file: source,
    message: `${source}: not a valid price table: ${loadZod().z.prettifyError(result.error).replaceAll('\n', '; ')}`,
  };
}

// zod yields `longContext: undefined`-free objects already, but exactOptionalPropertyTypes needs the proof.
function stripUndefined(data: z.infer<ReturnType<typeof buildPriceTableSchema>>): PriceTable {
  const models: Record<string, ModelPrice> = {};
  for (const [id, { longContext, note, ...base }] of Object.entries(data.models)) {
    models[id] = {
      ...base,
      ...(longContext ? { longContext } : {}),
      ...(note === undefined ? {} : { note }),
    };
  }
  return { aliases: data.aliases, models };
}

/** Reads and validates a price table file (thin I/O); an unreadable or invalid file is a `Diagnostic`. */
export async function loadPrices(file: string = builtinPricesFile): Promise<PriceTable | Diagnostic> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      severity: 'error',
      code: 'bad-prices',
      file,
      message: `${file}: cannot read price table: ${reason}`,
    };
  }
  return parsePriceTable(json, file);
}

/**
 * The price table shipped with Maestro, read once per process. It is Maestro's own data, validated
 * against the schema by the test suite (`test/analyze/prices.test.ts`), so it is not validated again
 * here: that would load zod (~100 ms) on every start. An unreadable file is a packaging bug and throws.
 */
export const loadBuiltinPrices: () => Promise<PriceTable> = once(() =>
  readFile(builtinPricesFile, 'utf8').then((text) => {
    const { aliases, models } = JSON.parse(text) as PriceTable;
    return { aliases, models };
  }),
);

/**
 * The table's model id for an alias or id, or null when unknown. Accepts the forms CLIs report:
 * any case, a provider prefix (`anthropic/…`), a context suffix (`…[1m]`) and dated ids
 * (`claude-sonnet-4-20250514` → `claude-sonnet-4`, by longest matching prefix).
 */
export function resolveModel(model: string, table: PriceTable): string | null {
  let id = model
    .trim()
    .toLowerCase()
    .replace(/\[.*\]$/, '');
  id = id.slice(id.lastIndexOf('/') + 1);
  id = table.aliases[id] ?? id;
  if (Object.hasOwn(table.models, id)) return id;
  let best: string | null = null;
  for (const known of Object.keys(table.models)) {
    if (id.startsWith(`${known}-`) && (best === null || known.length > best.length)) best = known;
  }
  return best;
}

/**
 * Cost in USD of `usage` at `model`'s prices: Σ tokens × price / 1e6 (the formula Claude Code's own
 * `total_cost_usd` follows). Null when the model is not in the table, so callers can say "unknown".
 * `longContext` selects the long-prompt tier where the model has one.
 */
export function priceUsage(
  model: string,
  usage: TokenUsage,
  table: PriceTable,
  options: { readonly longContext?: boolean } = {},
): number | null {
  const id = resolveModel(model, table);
  const price = id === null ? undefined : table.models[id];
  if (!price) return null;
  const r = options.longContext === true && price.longContext ? price.longContext : price;
  const micro =
    usage.inputTokens * r.input +
    usage.outputTokens * r.output +
    (usage.cacheReadTokens ?? 0) * r.cacheRead +
    (usage.cacheWriteTokens ?? 0) * r.cacheWrite;
  return micro / 1e6;
}
