/**
 * The `maestro.config.json` / `.yaml` schema: project defaults for `maestro run`. Command-line flags
 * override it, and it overrides built-in defaults. `z.toJSONSchema` publishes it for editors.
 */
import type { z } from 'zod';
import { loadZod, once } from '../util/lazy.js';

/** Agent backends a config may name. */
export const agentNames = ['claude', 'codex', 'gemini', 'command', 'demo'] as const;

/** The configuration file's schema (unknown keys are errors, so typos do not pass silently). */
function buildConfigSchema() {
  const { z } = loadZod();
  const positiveUsd = z.number().positive();
  const minutes = z.number().positive();
  return z
    .strictObject({
      $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors'),
      agent: z.enum(agentNames).optional().describe('Agent backend (`--agent`)'),
      agentCommand: z
        .string()
        .min(1)
        .optional()
        .describe('Shell command the `command` backend runs in each worktree (`--agent-command`)'),
      model: z
        .string()
        .min(1)
        .optional()
        .describe('Default model alias or id for every role (e.g. `sonnet`)'),
      models: z
        .record(z.string(), z.string().min(1))
        .optional()
        .describe('Model per role, e.g. { "testing": "haiku", "migration": "opus" }; overrides `model`'),
      budgets: z
        .strictObject({
          runUsd: positiveUsd
            .optional()
            .describe('Stop starting agents once the run has cost this much (USD)'),
          streamUsd: positiveUsd
            .optional()
            .describe('Stop an agent once its stream has cost this much (USD)'),
        })
        .optional(),
      validate: z
        .array(z.string().min(1))
        .optional()
        .describe(
          'Validation commands run after each merge or wave, in addition to the plan’s (`--validate`)',
        ),
      maxParallel: z
        .int()
        .min(1)
        .max(100)
        .optional()
        .describe('Most agents running at once (`--max-parallel`)'),
      schedule: z
        .enum(['dag', 'waves', 'sequential', 'hybrid'])
        .optional()
        .describe('How streams are started (`--schedule`)'),
      onFailure: z
        .enum(['continue', 'stop'])
        .optional()
        .describe('After a stream fails: go on with independent streams, or stop'),
      retries: z
        .int()
        .min(0)
        .max(10)
        .optional()
        .describe('Retries of a stream after a failed gate or conflict (`--retries`)'),
      timeouts: z
        .strictObject({
          streamMinutes: minutes.optional().describe('Wall-clock limit per agent run'),
          stallMinutes: minutes.optional().describe('Stop an agent that printed nothing for this long'),
        })
        .optional(),
      env: z
        .strictObject({
          pass: z
            .array(z.string().min(1))
            .optional()
            .describe('Environment variables agents always inherit (names, `*` wildcards), e.g. ["AWS_*"]'),
          drop: z
            .array(z.string().min(1))
            .optional()
            .describe('Environment variables agents never inherit (wins over `pass`)'),
        })
        .optional()
        .describe(
          "What agents inherit: by default the ordinary environment and their own vendor's key, not other vendors' keys or cloud credentials",
        ),
      ownership: z
        .enum(['fail', 'warn'])
        .optional()
        .describe('Out-of-scope changes fail the stream, or only warn (`--ownership`)'),
      setup: z
        .union([z.string().min(1), z.array(z.string().min(1))])
        .optional()
        .describe(
          'Commands run with /bin/sh -c in each worktree before its agent or first gate (`--setup`); [] turns detection from lockfiles off',
        ),
      teardown: z
        .union([z.string().min(1), z.array(z.string().min(1))])
        .optional()
        .describe('Commands run in a worktree just before `maestro clean` removes it (`--teardown`)'),
      baseline: z
        .boolean()
        .optional()
        .describe(
          'Run the validation commands once on the base commit before any agent starts (default true)',
        ),
      redis: z
        .string()
        .regex(/^rediss?:\/\//)
        .optional()
        .describe(
          'Run streams on `maestro worker`s through this Redis (`--redis`); keep passwords out of the file: MAESTRO_REDIS_URL',
        ),
      remote: z
        .string()
        .min(1)
        .optional()
        .describe(
          'With `redis`: the git remote the workers fetch from and push to (`--remote`, default origin)',
        ),
    })
    .describe('Maestro project configuration (maestro.config.json or maestro.config.yaml)');
}

/** The configuration schema, built on first use (zod loads lazily: most projects have no config file). */
export const configSchema = once(buildConfigSchema);

/** A validated configuration. */
export type MaestroConfig = z.infer<ReturnType<typeof configSchema>>;

/** The JSON Schema of the configuration file, as published in `schema/maestro.config.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  return loadZod().z.toJSONSchema(configSchema(), { target: 'draft-2020-12' });
}
