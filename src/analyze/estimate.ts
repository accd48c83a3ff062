/**
 * Work estimates: a deliberately simple, documented model of minutes and tokens per stream, priced
 * with the price table, and wall-clock totals from the graph simulators. Pure.
 */
import { simulateDynamic, simulateSequential, simulateWaves, type Dag } from '../graph/index.js';
import { priceUsage, type PriceTable } from './prices.js';
import type { Estimate, StreamEstimate } from './types.js';

/** Every constant of the estimate model, in one place. */
export const ESTIMATE_MODEL = {
  /** Minutes an agent spends on any stream: reading the prompt and code, orienting, writing the report. */
  baseMinutes: 6,
  /** Minutes per file the stream owns. */
  minutesPerFile: 4,
  /** Minutes per validation command (running it and fixing what it reports). */
  minutesPerValidation: 2,
  /** Files counted for a glob that cannot be expanded (no repository). */
  filesPerUnexpandedGlob: 3,
  /** At most this many files are counted: big globs are mostly repetitive, mechanical edits. */
  maxFilesCounted: 25,
  /** Input tokens per stream before any file: system prompt, tools, role, plan text, first reads. */
  baseInputTokens: 200_000,
  /** Input tokens per file: agents resend the conversation every turn, so input dominates. */
  inputTokensPerFile: 150_000,
  baseOutputTokens: 5_000,
  outputTokensPerFile: 8_000,
  /** Share of input tokens served from the prompt cache (agent loops resend a growing prefix). */
  cacheReadShare: 0.85,
  /** Share of input tokens written to the cache; the rest is uncached input. */
  cacheWriteShare: 0.1,
  /** Model assumed when neither the plan, the role nor the command line names one. */
  defaultModel: 'opus',
} as const;

/**
 * `1234567` → `1,234,567`. Not `toLocaleString('en-US')`: its first call loads ICU number formatting,
 * ~20 ms of every command's start-up (this module's constants are built when it loads).
 */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The estimate model in Markdown, for the README and `--help`. */
export const ESTIMATE_MODEL_MARKDOWN = `### How Maestro estimates
- **Files** per stream: each listed path, plus each glob's matches in the repository (a glob that cannot be expanded counts as ${ESTIMATE_MODEL.filesPerUnexpandedGlob}); at least 1 and at most ${ESTIMATE_MODEL.maxFilesCounted}.
- **Minutes** per stream: ${ESTIMATE_MODEL.baseMinutes} + ${ESTIMATE_MODEL.minutesPerFile} × files + ${ESTIMATE_MODEL.minutesPerValidation} × validation commands.
- **Tokens** per stream: input ${thousands(ESTIMATE_MODEL.baseInputTokens)} + ${thousands(ESTIMATE_MODEL.inputTokensPerFile)} × files; output ${thousands(ESTIMATE_MODEL.baseOutputTokens)} + ${thousands(ESTIMATE_MODEL.outputTokensPerFile)} × files.
- **Cost**: input priced as ${ESTIMATE_MODEL.cacheReadShare * 100}% cache reads, ${ESTIMATE_MODEL.cacheWriteShare * 100}% cache writes and the rest uncached, at the stream's model in \`data/prices.json\` (cost = Σ tokens × price / 1e6).
- **Wall time**: *sequential* is the sum of stream minutes; *waves* runs wave after wave (each wave as long as its longest stream); *dynamic* simulates a scheduler that starts the ready stream with the longest remaining critical path whenever one of \`maxParallel\` slots is free.
- These are planning numbers for comparing schedules, not promises: real agents vary by a factor of two or more.`;

/** What the estimate needs to know about one stream. */
export interface StreamWork {
  /** Concrete files (listed paths and glob matches). */
  readonly files: number;
  /** Globs (or directories) that could not be expanded. */
  readonly unexpandedGlobs: number;
  readonly validationCommands: number;
  /** Model id or alias to price at. */
  readonly model: string;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Files the model counts for a stream (see `ESTIMATE_MODEL_MARKDOWN`). */
export function countedFiles(work: StreamWork): number {
  const files = work.files + work.unexpandedGlobs * ESTIMATE_MODEL.filesPerUnexpandedGlob;
  return Math.min(ESTIMATE_MODEL.maxFilesCounted, Math.max(1, files));
}

/** Minutes, tokens and cost of one stream; cost is null when the model has no price. */
export function estimateStream(
  work: StreamWork,
  prices: PriceTable,
): StreamEstimate & { readonly priced: boolean } {
  const m = ESTIMATE_MODEL;
  const files = countedFiles(work);
  const inputTokens = m.baseInputTokens + m.inputTokensPerFile * files;
  const outputTokens = m.baseOutputTokens + m.outputTokensPerFile * files;
  const cost = priceUsage(
    work.model,
    {
      inputTokens: inputTokens * (1 - m.cacheReadShare - m.cacheWriteShare),
      cacheReadTokens: inputTokens * m.cacheReadShare,
      cacheWriteTokens: inputTokens * m.cacheWriteShare,
      outputTokens,
    },
    prices,
  );
  return {
    minutes: m.baseMinutes + m.minutesPerFile * files + m.minutesPerValidation * work.validationCommands,
    inputTokens,
    outputTokens,
    costUsd: round(cost ?? 0, 4),
    priced: cost !== null,
  };
}

/**
 * Plan totals: tokens and cost summed over streams, and wall minutes for sequential, wave-by-wave
 * and dynamic execution at `maxParallel` over the (acyclic) stream graph.
 */
export function estimatePlan(
  streams: readonly { readonly id: string; readonly estimate: StreamEstimate }[],
  dag: Dag,
  waveList: readonly (readonly string[])[],
  maxParallel: number,
  model: string,
): Estimate {
  const byId = new Map(streams.map((s) => [s.id, s.estimate]));
  const minutes = (id: string): number => {
    const e = byId.get(id);
    if (!e) throw new Error(`estimatePlan: no estimate for stream ${id}`);
    return e.minutes;
  };
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd = 0;
  for (const s of streams) {
    inputTokens += s.estimate.inputTokens;
    outputTokens += s.estimate.outputTokens;
    costUsd += s.estimate.costUsd;
  }
  const m = ESTIMATE_MODEL;
  return {
    model,
    inputTokens,
    outputTokens,
    costUsd: round(costUsd, 2),
    minutes: {
      sequential: simulateSequential(dag, minutes),
      waves: simulateWaves(waveList, minutes),
      dynamic: simulateDynamic(dag, minutes, maxParallel).makespan,
    },
    method:
      `per stream: ${m.baseMinutes} min + ${m.minutesPerFile} min/file + ${m.minutesPerValidation} min/validation command; ` +
      `tokens ${m.baseInputTokens / 1000}k + ${m.inputTokensPerFile / 1000}k/file in, ${m.baseOutputTokens / 1000}k + ${m.outputTokensPerFile / 1000}k/file out, ` +
      `input ${m.cacheReadShare * 100}% cache reads; priced per stream model from data/prices.json; ` +
      `wall time simulated sequentially, by waves, and by dynamic critical-path-first scheduling at ${maxParallel} slots`,
  };
}
