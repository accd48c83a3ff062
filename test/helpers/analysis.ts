/** Builds `Analysis` objects by hand for engine tests (no parser or analyser involved). */
import type { Analysis, RoleDefinition, Stream } from '../../src/analyze/types.js';
import type { Phase, PlanFile } from '../../src/plan/types.js';

/** A stream in shorthand. */
export interface StreamSpec {
  readonly id: string;
  readonly deps?: readonly string[];
  readonly files?: readonly string[];
  readonly role?: string;
  readonly validation?: readonly string[];
  readonly minutes?: number;
}

function planFile(p: string): PlanFile {
  return { path: p, action: 'create', glob: /[*?[{]/.test(p), line: 1 };
}

function role(name: string): RoleDefinition {
  return {
    name,
    description: `${name} role`,
    tools: [],
    model: 'sonnet',
    instructions: `You are the ${name} specialist.`,
    reportName: `${name.toUpperCase()}_COMPLETE.md`,
    source: 'builtin',
  };
}

/** Topological levels of the streams. */
function levels(specs: readonly StreamSpec[]): string[][] {
  const level = new Map<string, number>();
  const depth = (s: StreamSpec): number => {
    const known = level.get(s.id);
    if (known !== undefined) return known;
    const d =
      Math.max(-1, ...(s.deps ?? []).map((d) => depth(specs.find((x) => x.id === d) ?? { id: d }))) + 1;
    level.set(s.id, d);
    return d;
  };
  const waves: string[][] = [];
  for (const s of specs) (waves[depth(s)] ??= []).push(s.id);
  return waves;
}

/** Builds an Analysis with one phase per stream, plan-wide validation `validation`. */
export function makeAnalysis(
  specs: readonly StreamSpec[],
  options: { validation?: readonly string[]; maxParallel?: number; criticalPath?: readonly string[] } = {},
): Analysis {
  const phases: Phase[] = specs.map((s, i) => ({
    id: s.id,
    title: `Phase ${s.id}`,
    line: i * 10 + 1,
    endLine: i * 10 + 9,
    body: `## Phase ${s.id}\n\nDo the ${s.id} work.`,
    files: (s.files ?? []).map(planFile),
    dependsOn: s.deps ?? [],
    explicitDependencies: true,
    criticalFixes: [],
    validation: [],
    hints: {},
  }));
  const streams: Stream[] = specs.map((s) => ({
    id: s.id,
    phaseId: s.id,
    title: `Phase ${s.id}`,
    role: s.role ?? 'general',
    roleReason: 'test',
    files: (s.files ?? []).map(planFile),
    expandedFiles: [],
    dependsOn: s.deps ?? [],
    implicitDependsOn: [],
    criticalFixes: [],
    validation: (s.validation ?? []).map((command) => ({ command, line: 1 })),
    model: 'sonnet',
    estimate: { minutes: s.minutes ?? 1, inputTokens: 0, outputTokens: 0, costUsd: 0 },
  }));
  const roles: Record<string, RoleDefinition> = {};
  for (const s of streams) roles[s.role] = role(s.role);
  const criticalPath = options.criticalPath ?? [];
  const startOrder = [...criticalPath, ...specs.map((s) => s.id).filter((id) => !criticalPath.includes(id))];
  return {
    plan: {
      source: 'plan.md',
      title: 'Test plan',
      phases,
      criticalFixes: [],
      validation: (options.validation ?? []).map((command) => ({ command, line: 1 })),
      dependencyRule: 'explicit',
      dependencyRuleReason: 'test',
      settings: {},
    },
    dependencyRule: 'explicit',
    streams,
    roles,
    waves: levels(specs),
    criticalPath,
    startOrder,
    conflicts: [],
    criticalFixes: [],
    estimate: {
      model: 'sonnet',
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      minutes: { sequential: 0, waves: 0, dynamic: 0 },
      method: 'test',
    },
    maxParallel: options.maxParallel ?? 10,
    repo: null,
    diagnostics: [],
  };
}
