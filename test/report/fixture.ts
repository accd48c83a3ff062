/**
 * A realistic synthetic run: a 7-stream plan shaped like the seed's (migration → models → validation and
 * services → pipeline and API → tests) where services is retried after a failed gate, pipeline fails on
 * an out-of-scope edit and tests is skipped.
 */
import type { Analysis, RoleDefinition, Stream } from '../../src/analyze/types.js';
import type { Usage } from '../../src/agents/types.js';
import type { RunEvent, RunEventInput } from '../../src/run/types.js';

const roleNames = ['migration', 'models', 'validation', 'services', 'pipeline', 'api', 'testing'] as const;

function role(name: string): RoleDefinition {
  return {
    name,
    description: `${name} specialist`,
    tools: ['Read', 'Edit'],
    model: 'sonnet',
    instructions: `You are the ${name} agent.`,
    reportName: `${name.toUpperCase()}_COMPLETE.md`,
    source: 'builtin',
  };
}

function stream(
  id: string,
  title: string,
  roleName: string,
  files: readonly string[],
  dependsOn: readonly string[],
  criticalFixes: readonly string[],
  minutes: number,
): Stream {
  return {
    id,
    phaseId: id.slice(1),
    title,
    role: roleName,
    roleReason: 'title keyword',
    files: files.map((path, i) => ({ path, action: 'create', glob: path.includes('*'), line: 10 + i })),
    expandedFiles: [],
    dependsOn,
    implicitDependsOn: [],
    criticalFixes,
    validation: [],
    model: 'sonnet',
    estimate: {
      minutes,
      inputTokens: minutes * 10_000,
      outputTokens: minutes * 2000,
      costUsd: minutes * 0.04,
    },
  };
}

const streams: Stream[] = [
  stream('s1', 'Database migration', 'migration', ['db/migrations/001_init.sql'], [], ['C1'], 8),
  stream('s2', 'Data models', 'models', ['src/models/user.ts', 'src/models/order.ts'], ['s1'], ['C2'], 10),
  stream('s3', 'Validation & security', 'validation', ['src/validation/*.ts'], ['s2'], ['C3'], 6),
  stream('s4', 'Services', 'services', ['src/services/orders.ts'], ['s2'], [], 12),
  stream('s5', 'Pipeline <batch>', 'pipeline', ['src/pipeline/run.ts'], ['s4'], ['C4'], 9),
  stream('s6', 'API | routes', 'api', ['src/api/routes.ts'], ['s3', 's4'], ['C1'], 7),
  {
    ...stream('s7', 'Tests', 'testing', ['test/**/*.test.ts'], ['s5', 's6'], [], 5),
    implicitDependsOn: ['s3'],
  },
];

/** The analysis the synthetic run executed. */
export const analysis: Analysis = {
  plan: {
    source: 'plans/shop.md',
    title: 'Shop backend',
    phases: [],
    criticalFixes: [],
    validation: [{ command: 'npm test', line: 3 }],
    dependencyRule: 'explicit',
    dependencyRuleReason: 'phases state their dependencies',
    settings: {},
  },
  dependencyRule: 'explicit',
  streams,
  roles: Object.fromEntries(roleNames.map((n) => [n, role(n)])),
  waves: [['s1'], ['s2'], ['s3', 's4'], ['s5', 's6'], ['s7']],
  criticalPath: ['s1', 's2', 's4', 's5', 's7'],
  startOrder: ['s1', 's2', 's4', 's3', 's5', 's6', 's7'],
  conflicts: [],
  criticalFixes: [
    { id: 'C1', text: 'Use parameterised queries for every database access', line: 5, phases: [] },
    { id: 'C2', text: 'Store money as integer cents, never floating point', line: 6, phases: ['2'] },
    { id: 'C3', text: 'Reject oversized request payloads before parsing', line: 7, phases: ['3'] },
    { id: 'C4', text: 'Pipeline retries must be idempotent', line: 8, phases: ['5'] },
  ],
  estimate: {
    model: 'sonnet',
    inputTokens: 570_000,
    outputTokens: 114_000,
    costUsd: 2.28,
    minutes: { sequential: 57, waves: 42, dynamic: 41 },
    method: 'per-file heuristics',
  },
  maxParallel: 4,
  repo: '/tmp/shop',
  diagnostics: [],
};

/** Minutes after the run start as an ISO time. */
export function at(minutes: number): string {
  return new Date(Date.UTC(2026, 10, 28, 10, 0, 0) + minutes * 60_000).toISOString();
}

function usage(input: number, output: number, costUsd: number): Usage {
  return {
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: 100,
    cacheWriteTokens: 50,
    costUsd,
    costSource: 'reported',
  };
}

const timeline: [number, RunEventInput][] = [
  [
    0,
    {
      type: 'run-started',
      runId: 'run-1',
      repo: '/tmp/shop',
      planSource: 'plans/shop.md',
      baseRef: 'main',
      baseSha: 'base0',
      baseBranchRef: 'refs/heads/main',
      integrationBranch: 'maestro/run-1',
      streamIds: streams.map((s) => s.id),
    },
  ],
  [
    0,
    {
      type: 'stream-started',
      streamId: 's1',
      attempt: 1,
      branch: 'maestro/run-1/s1',
      startSha: 'base0',
      worktree: '/w/s1',
    },
  ],
  [1, { type: 'agent-output', streamId: 's1', text: 'writing migration' }],
  [6, { type: 'agent-usage', streamId: 's1', usage: usage(50_000, 9000, 0.19) }],
  [6, { type: 'agent-finished', streamId: 's1', ok: true, code: 'ok', message: '', durationMs: 6 * 60_000 }],
  [
    6.2,
    { type: 'stream-committed', streamId: 's1', sha: 'c1', changedFiles: ['db/migrations/001_init.sql'] },
  ],
  [6.3, { type: 'stream-merged', streamId: 's1', mergeSha: 'm1', streamSha: 'c1' }],
  [6.3, { type: 'validation-started', streamId: 's1', commands: ['npm test'] }],
  [7, { type: 'validation-passed', streamId: 's1', sha: 'm1' }],
  [
    7,
    {
      type: 'stream-started',
      streamId: 's2',
      attempt: 1,
      branch: 'maestro/run-1/s2',
      startSha: 'm1',
      worktree: '/w/s2',
    },
  ],
  [16, { type: 'agent-usage', streamId: 's2', usage: usage(90_000, 20_000, 0.38) }],
  [16, { type: 'agent-finished', streamId: 's2', ok: true, code: 'ok', message: '', durationMs: 9 * 60_000 }],
  [
    16.2,
    {
      type: 'stream-committed',
      streamId: 's2',
      sha: 'c2',
      changedFiles: ['src/models/user.ts', 'src/models/order.ts'],
    },
  ],
  [16.3, { type: 'stream-merged', streamId: 's2', mergeSha: 'm2', streamSha: 'c2' }],
  [16.3, { type: 'validation-started', streamId: 's2', commands: ['npm test'] }],
  [17, { type: 'validation-passed', streamId: 's2', sha: 'm2' }],
  [
    17,
    {
      type: 'stream-started',
      streamId: 's4',
      attempt: 1,
      branch: 'maestro/run-1/s4',
      startSha: 'm2',
      worktree: '/w/s4',
    },
  ],
  [
    17,
    {
      type: 'stream-started',
      streamId: 's3',
      attempt: 1,
      branch: 'maestro/run-1/s3',
      startSha: 'm2',
      worktree: '/w/s3',
    },
  ],
  [22, { type: 'agent-usage', streamId: 's3', usage: usage(40_000, 8000, 0.16) }],
  [22, { type: 'agent-finished', streamId: 's3', ok: true, code: 'ok', message: '', durationMs: 5 * 60_000 }],
  [
    22.2,
    { type: 'stream-committed', streamId: 's3', sha: 'c3', changedFiles: ['src/validation/payload.ts'] },
  ],
  [22.3, { type: 'stream-merged', streamId: 's3', mergeSha: 'm3', streamSha: 'c3' }],
  [22.3, { type: 'validation-started', streamId: 's3', commands: ['npm test'] }],
  [23, { type: 'validation-passed', streamId: 's3', sha: 'm3' }],
  [27, { type: 'agent-usage', streamId: 's4', usage: usage(100_000, 25_000, 0.45) }],
  [
    27,
    { type: 'agent-finished', streamId: 's4', ok: true, code: 'ok', message: '', durationMs: 10 * 60_000 },
  ],
  [27.2, { type: 'stream-committed', streamId: 's4', sha: 'c4', changedFiles: ['src/services/orders.ts'] }],
  [27.3, { type: 'stream-merged', streamId: 's4', mergeSha: 'm4', streamSha: 'c4' }],
  [27.3, { type: 'validation-started', streamId: 's4', commands: ['npm test'] }],
  [
    28,
    {
      type: 'validation-failed',
      streamId: 's4',
      command: 'npm test',
      exitCode: 1,
      output: 'FAIL orders.test.ts\n  expected 3 to be 4',
    },
  ],
  [28, { type: 'integration-reset', sha: 'm3', reason: 'validation failed for s4' }],
  [
    28,
    {
      type: 'stream-retry',
      streamId: 's4',
      attempt: 2,
      cause: 'gate',
      reason: 'validation failed: npm test',
      context: 'expected 3 to be 4',
      fresh: false,
    },
  ],
  [
    28.1,
    {
      type: 'stream-started',
      streamId: 's4',
      attempt: 2,
      branch: 'maestro/run-1/s4',
      startSha: 'm3',
      worktree: '/w/s4',
    },
  ],
  [32, { type: 'agent-usage', streamId: 's4', usage: usage(60_000, 10_000, 0.25) }],
  [
    32,
    { type: 'agent-finished', streamId: 's4', ok: true, code: 'ok', message: '', durationMs: 3.9 * 60_000 },
  ],
  [32.2, { type: 'stream-committed', streamId: 's4', sha: 'c4b', changedFiles: ['src/services/orders.ts'] }],
  [32.3, { type: 'stream-merged', streamId: 's4', mergeSha: 'm4b', streamSha: 'c4b' }],
  [32.3, { type: 'validation-started', streamId: 's4', commands: ['npm test'] }],
  [33, { type: 'validation-passed', streamId: 's4', sha: 'm4b' }],
  [
    33,
    {
      type: 'stream-started',
      streamId: 's5',
      attempt: 1,
      branch: 'maestro/run-1/s5',
      startSha: 'm4b',
      worktree: '/w/s5',
    },
  ],
  [
    33,
    {
      type: 'stream-started',
      streamId: 's6',
      attempt: 1,
      branch: 'maestro/run-1/s6',
      startSha: 'm4b',
      worktree: '/w/s6',
    },
  ],
  [39, { type: 'agent-usage', streamId: 's6', usage: usage(70_000, 12_000, 0.26) }],
  [39, { type: 'agent-finished', streamId: 's6', ok: true, code: 'ok', message: '', durationMs: 6 * 60_000 }],
  [39.2, { type: 'stream-committed', streamId: 's6', sha: 'c6', changedFiles: ['src/api/routes.ts'] }],
  [39.3, { type: 'stream-merged', streamId: 's6', mergeSha: 'm6', streamSha: 'c6' }],
  [39.3, { type: 'validation-started', streamId: 's6', commands: ['npm test'] }],
  [40, { type: 'validation-passed', streamId: 's6', sha: 'm6' }],
  [41, { type: 'agent-usage', streamId: 's5', usage: usage(80_000, 15_000, 0.31) }],
  [41, { type: 'agent-finished', streamId: 's5', ok: true, code: 'ok', message: '', durationMs: 8 * 60_000 }],
  [
    41.2,
    {
      type: 'stream-committed',
      streamId: 's5',
      sha: 'c5',
      changedFiles: ['src/pipeline/run.ts', 'src/api/routes.ts'],
    },
  ],
  [41.2, { type: 'ownership-violation', streamId: 's5', paths: ['src/api/routes.ts'], mode: 'fail' }],
  [
    41.2,
    {
      type: 'stream-failed',
      streamId: 's5',
      code: 'out-of-scope',
      message: 'changed files it does not own: src/api/routes.ts',
    },
  ],
  [41.2, { type: 'stream-skipped', streamId: 's7', reason: 'depends on failed stream s5' }],
  [41.3, { type: 'run-finished', status: 'failed' }],
];

/** The journal of the synthetic run. */
export const events: RunEvent[] = timeline.map(([minutes, event]) => ({ ...event, time: at(minutes) }));

/** Completion reports of the streams that wrote one (paths relative to the run directory). */
export const completionReports = new Map([
  [
    's1',
    { path: 'streams/s1/MIGRATION_COMPLETE.md', text: '# Migration\nC1: all queries are parameterised.\n' },
  ],
  [
    's2',
    {
      path: 'streams/s2/MODELS_COMPLETE.md',
      text: '# Models\nMoney amounts are stored as integer cents; floating point is not used.\n',
    },
  ],
  ['s3', { path: 'streams/s3/VALIDATION_COMPLETE.md', text: '# Validation\nAdded schema checks.\n' }],
  ['s4', { path: 'streams/s4/SERVICES_COMPLETE.md', text: '# Services\nOrders service.\n' }],
  ['s6', { path: 'streams/s6/API_COMPLETE.md', text: '# API\nRoutes added.\n' }],
]);
