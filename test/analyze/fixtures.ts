/** Builders for plans in analysis tests: the parser is someone else's stage, so tests build `Plan`s directly. */
import { loadBuiltinPrices, type PriceTable } from '../../src/analyze/prices.js';
import { loadRoles } from '../../src/analyze/roles-loader.js';
import type { RoleDefinition } from '../../src/analyze/types.js';
import type { Diagnostic, ParseResult, Phase, Plan, PlanFile } from '../../src/plan/types.js';

/** A file entry; globs are detected from the path. */
export function file(path: string, line = 1): PlanFile {
  return { path, action: 'modify', glob: /[*?[\]{}]/.test(path), line };
}

/** A phase with sensible defaults; `files` may be plain paths. */
export function phase(
  id: string,
  overrides: Omit<Partial<Phase>, 'files'> & { files?: readonly (string | PlanFile)[] } = {},
): Phase {
  const line = overrides.line ?? Number(id) * 10;
  const files = (overrides.files ?? []).map((f) => (typeof f === 'string' ? file(f, line + 1) : f));
  return {
    id,
    title: `Phase ${id}`,
    line,
    endLine: line + 9,
    body: '',
    dependsOn: [],
    explicitDependencies: false,
    criticalFixes: [],
    validation: [],
    hints: {},
    ...overrides,
    files,
  };
}

/** A parse result for the given phases. */
export function parsed(
  phases: readonly Phase[],
  plan: Partial<Plan> = {},
  diagnostics: Diagnostic[] = [],
): ParseResult {
  return {
    plan: {
      source: 'plan.md',
      title: 'Test plan',
      phases,
      criticalFixes: [],
      validation: [],
      dependencyRule: 'explicit',
      dependencyRuleReason: 'test',
      settings: {},
      ...plan,
    },
    diagnostics,
  };
}

/** Built-in roles and prices, loaded once per test file. */
export async function builtins(): Promise<{ roles: Record<string, RoleDefinition>; prices: PriceTable }> {
  const [{ roles }, prices] = await Promise.all([loadRoles(null), loadBuiltinPrices()]);
  return { roles, prices };
}
