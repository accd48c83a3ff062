/**
 * Settings a plan states precisely, in YAML front matter or a fenced ```maestro``` block.
 * They win over what the parser infers. Unknown keys are reported, never errors, because many
 * plans carry front matter of their own (GSD's `depends_on`, Cursor's `todos`…).
 */
import type { z } from 'zod';
import { loadYaml, loadZod, once } from '../util/lazy.js';
import type { Diagnostic } from './types.js';
import type { MarkdownDoc } from './markdown.js';

/** The settings schemas, built on first use (zod loads lazily: most plans have no settings). */
function buildSchemas() {
  const { z } = loadZod();
  const stringList = z.union([z.string(), z.number()]).transform(String);
  const stringOrList = z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]));

  /** One phase as stated in settings. */
  const settingsPhaseSchema = z.looseObject({
    id: z.union([z.string(), z.number()]).transform(String),
    title: z.string().optional(),
    dependsOn: z
      .union([stringList, z.array(stringList)])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .optional(),
    files: z.array(z.string()).optional(),
    role: z.string().optional(),
    agent: z.string().optional(),
    model: z.string().optional(),
    validation: stringOrList.optional(),
  });

  /** The settings schema (front matter or ```maestro``` block). */
  const planSettingsSchema = z.looseObject({
    phases: z.array(settingsPhaseSchema).optional(),
    maxParallel: z.number().int().min(1).max(64).optional(),
    /** The heading level (and unit word) that holds the phases: `"## Track"`, `"### Task"`, `"##"`. */
    phaseLevel: z
      .string()
      .regex(
        /^\s*#{1,6}\s*(?:[A-Za-z][\w -]*)?\s*$/,
        'write heading markers and an optional word, e.g. "## Track"',
      )
      .optional(),
    model: z.string().optional(),
    agent: z.string().optional(),
    validation: stringOrList.optional(),
    dependencyRule: z.enum(['explicit', 'sequential']).optional(),
    // Worktree setup and teardown commands (`[]` turns detection off); see run/setup-detect.ts.
    setup: stringOrList.optional(),
    teardown: stringOrList.optional(),
    criticalFixes: z
      .array(
        z.union([
          z.string(),
          z.object({ id: z.string().optional(), text: z.string(), phases: z.array(stringList).optional() }),
        ]),
      )
      .optional(),
  });
  return { planSettingsSchema, knownKeys: new Set(Object.keys(planSettingsSchema.shape)) };
}

const schemas = once(buildSchemas);

/** The plan settings schema. */
export function planSettingsSchema(): ReturnType<typeof buildSchemas>['planSettingsSchema'] {
  return schemas().planSettingsSchema;
}

/** Validated settings. */
export type PlanSettingsInput = z.output<ReturnType<typeof planSettingsSchema>>;

/** JSON Schema of the settings, for editors and the published `schema/` folder. */
export function planSettingsJsonSchema(): Record<string, unknown> {
  return loadZod().z.toJSONSchema(planSettingsSchema(), { io: 'input' });
}

/** Settings read from the plan, the line they came from, and problems found. */
export interface SettingsResult {
  readonly settings: PlanSettingsInput | null;
  readonly line: number;
  readonly diagnostics: readonly Diagnostic[];
}

function readBlock(
  yamlText: string,
  line: number,
  origin: string,
  source: string,
  out: Diagnostic[],
): PlanSettingsInput | null {
  const { parse: parseYaml, YAMLParseError } = loadYaml();
  let data: unknown;
  try {
    data = parseYaml(yamlText);
  } catch (error) {
    const offset = error instanceof YAMLParseError ? (error.linePos?.[0].line ?? 1) : 1;
    const at = line + offset;
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    out.push({
      severity: 'error',
      code: 'invalid-settings',
      message: `${source}:${at}: ${origin} is not valid YAML (${reason}); fix the YAML or remove the block`,
      line: at,
      file: source,
    });
    return null;
  }
  if (data === null || data === undefined) return null;
  if (typeof data !== 'object' || Array.isArray(data)) {
    if (origin === 'front matter') return null;
    out.push({
      severity: 'error',
      code: 'invalid-settings',
      message: `${source}:${line}: ${origin} must be a YAML mapping (key: value)`,
      line,
      file: source,
    });
    return null;
  }
  const { planSettingsSchema: schema, knownKeys } = schemas();
  const result = schema.safeParse(data);
  if (!result.success) {
    out.push({
      severity: 'error',
      code: 'invalid-settings',
      message: `${source}:${line}: ${origin} does not match the plan settings schema:\n${loadZod().z.prettifyError(result.error)}`,
      line,
      file: source,
    });
    return null;
  }
  const unknown = Object.keys(data).filter((k) => !knownKeys.has(k));
  if (unknown.length > 0) {
    out.push({
      severity: 'info',
      code: 'unknown-setting',
      message: `${source}:${line}: ${origin} keys ignored by Maestro: ${unknown.join(', ')}`,
      line,
      file: source,
    });
  }
  return result.data;
}

/** Reads front matter and ```maestro``` blocks; a maestro block wins over front matter. */
export function readSettings(doc: MarkdownDoc, source: string): SettingsResult {
  const diagnostics: Diagnostic[] = [];
  let settings: PlanSettingsInput | null = null;
  let line = 1;
  if (doc.frontMatter) {
    settings = readBlock(doc.frontMatter.value, doc.frontMatter.line, 'front matter', source, diagnostics);
  } else if (
    /^---\s*$/.test(doc.lines[0] ?? '') &&
    !doc.lines.slice(1).some((l) => /^(?:---|\.\.\.)\s*$/.test(l))
  ) {
    diagnostics.push({
      severity: 'warning',
      code: 'unterminated-front-matter',
      message: `${source}:1: front matter opened with --- is never closed; add a closing --- line`,
      line: 1,
      file: source,
    });
  }
  for (const block of doc.codeBlocks) {
    if (block.lang !== 'maestro') continue;
    const parsed = readBlock(block.value, block.line, '```maestro block', source, diagnostics);
    if (parsed) {
      settings = { ...(settings ?? {}), ...parsed };
      line = block.line;
    }
  }
  return { settings, line, diagnostics };
}
