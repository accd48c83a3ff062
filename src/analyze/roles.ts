/**
 * Specialist roles: parsing role files (Claude Code sub-agent format) and choosing a stream's role
 * from its files, title and body. Pure: the I/O lives in `roles-loader.ts`.
 */
import type { AgentHints, Diagnostic } from '../plan/types.js';
import type { RoleDefinition } from './types.js';
import { loadYaml } from '../util/lazy.js';

/** Role ids shipped with Maestro, in the order ties are broken (most specific first). */
export const BUILTIN_ROLES = [
  'testing',
  'migration',
  'validation',
  'pipeline',
  'api',
  'services',
  'models',
  'general',
] as const;

/** A built-in role id. */
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/;

/**
 * Parses a role file: YAML front matter `name`, `description` (required), `tools` (comma list or
 * YAML list; empty means "all tools", as in Claude Code), `model` (default `inherit`) and
 * `report`/`reportName` (default `<NAME>_COMPLETE.md`); the body is the instructions.
 * `source` names the file in diagnostics and becomes `RoleDefinition.source`; `defaultReport`
 * replaces the derived report name (an override of a built-in keeps the built-in's report).
 */
export function parseRoleFile(
  text: string,
  source: string,
  defaultReport?: string,
): RoleDefinition | Diagnostic {
  const bad = (why: string): Diagnostic => ({
    severity: 'warning',
    code: 'bad-role-file',
    file: source,
    message: `${source}: ${why}; see the role files in Maestro's roles/ folder for the format`,
  });
  const match = FRONT_MATTER.exec(text);
  if (!match) return bad('no YAML front matter (a `---` block with name and description) at the top');
  let meta: unknown;
  try {
    meta = loadYaml().parse(match[1] ?? '');
  } catch (error) {
    return bad(
      `front matter is not valid YAML (${error instanceof Error ? (error.message.split('\n')[0] ?? '') : ''})`,
    );
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    return bad('front matter is not a mapping');
  const fields = meta as Record<string, unknown>;
  const name = fields['name'];
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(name.trim())) {
    return bad('front matter needs `name:` made of letters, digits, `-` or `_`');
  }
  const description = fields['description'];
  if (typeof description !== 'string' || description.trim() === '')
    return bad('front matter needs `description:`');
  const tools = parseTools(fields['tools']);
  if (tools === null) return bad('`tools:` must be a comma-separated string or a list of tool names');
  const model = fields['model'] ?? 'inherit';
  if (typeof model !== 'string' || model.trim() === '') return bad('`model:` must be a model alias or id');
  const id = name.trim().toLowerCase();
  const report = fields['report'] ?? fields['reportName'] ?? defaultReport ?? defaultReportName(id);
  if (typeof report !== 'string' || !/^[\w.-]+\.md$/.test(report)) {
    return bad('`report:` must be a plain file name ending in .md, e.g. API_COMPLETE.md');
  }
  const instructions = (match[2] ?? '').trim();
  if (instructions === '') return bad('the body (the role instructions) is empty');
  return {
    name: id,
    description: description.trim(),
    tools,
    model: model.trim(),
    instructions,
    reportName: report,
    source,
  };
}

function parseTools(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (list === null || !list.every((t) => typeof t === 'string')) return null;
  return list.map((t: string) => t.trim()).filter((t) => t !== '');
}

/** `MIGRATION_COMPLETE.md` for `migration`: the report name a role gets when its file names none. */
export function defaultReportName(role: string): string {
  return `${role.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_COMPLETE.md`;
}

// --- inference ------------------------------------------------------------------------------------

/** Path patterns per role, matched against lowercased repository paths. */
const PATH_RULES: Readonly<Record<Exclude<BuiltinRole, 'general'>, readonly RegExp[]>> = {
  testing: [
    /(?:^|\/)(?:tests?|__tests__|specs?|e2e|cypress|playwright|testing|fixtures)\//,
    /(?:^|\/)test_[^/]+$/,
    /(?:^|\/)[^/]+_test\.\w+$/,
    /\.(?:test|spec)\.\w+$/,
    /(?:^|\/)conftest\.py$/,
    /(?:^|\/)(?:monitoring|observability|metrics|alerts|dashboards|grafana|prometheus|telemetry)(?:\/|\.\w+$)/,
  ],
  migration: [
    // Directories only: a code file called `migration.ts` is not a database migration.
    /(?:^|\/)(?:migrations?|alembic|migrate|flyway|liquibase|seeds?)\//,
    /\.sql$/,
    /(?:^|\/)alembic\.ini$/,
  ],
  validation: [
    /(?:^|\/)(?:validators?|validations?|auth|authn|authz|authentication|authorization|security|permissions?|guards?|policies|sanitizers?|sanitization|crypto)(?:\/|\.\w+$)/,
    /(?:^|\/)[^/]*(?:validat|sanitiz|auth|secur|permission|csrf|rbac|jwt|password|rate[-_]?limit)[^/]*\.\w+$/,
  ],
  pipeline: [
    /(?:^|\/)(?:pipelines?|queues?|workers?|jobs?|tasks|celery|consumers?|producers?|schedulers?|cron|etl|ingest(?:ion)?|bullmq)(?:\/|\.\w+$)/,
    /(?:^|\/)[^/]*(?:worker|queue|pipeline|celery|consumer|producer|scheduler)[^/]*\.\w+$/,
  ],
  api: [
    /(?:^|\/)(?:api|apis|routes?|routers?|controllers?|endpoints?|handlers?|views|resolvers|graphql|rest)(?:\/|\.\w+$)/,
    /(?:^|\/)[^/]*(?:route|router|controller|endpoint|openapi|swagger)[^/]*\.\w+$/,
  ],
  services: [
    /(?:^|\/)(?:services?|usecases?|use[-_]cases|business|managers?|providers|clients?|integrations?)(?:\/|\.\w+$)/,
    /(?:^|\/)[^/]*(?:service|manager|usecase)[^/]*\.\w+$/,
  ],
  models: [
    /(?:^|\/)(?:models?|schemas?|entities|entity|types|dtos?|domain|interfaces)(?:\/|\.\w+$)/,
    /(?:^|\/)[^/]*(?:\.model|\.schema|\.entity|\.dto|\.types)\.\w+$/,
    /\.(?:d\.ts|proto|prisma|graphql|gql|avsc)$/,
  ],
};

/** Words in titles and bodies that point at a role (matched as whole words, lowercased). */
const WORD_RULES: Readonly<Record<Exclude<BuiltinRole, 'general'>, readonly string[]>> = {
  testing: [
    'test',
    'tests',
    'testing',
    'coverage',
    'e2e',
    'monitoring',
    'metrics',
    'observability',
    'alerting',
    'qa',
  ],
  // Not plain "migration"/"migrate": plans say that about code too ("migrate components to TypeScript").
  migration: [
    'database migration',
    'db migration',
    'schema migration',
    'data migration',
    'alembic',
    'flyway',
    'schema change',
    'backfill',
    'ddl',
    'sql',
  ],
  validation: [
    'validation',
    'validate',
    'security',
    'auth',
    'authentication',
    'authorization',
    'sanitize',
    'sanitization',
    'permissions',
    'hardening',
    'csrf',
    'xss',
  ],
  pipeline: [
    'pipeline',
    'queue',
    'worker',
    'workers',
    'jobs',
    'celery',
    'background',
    'scheduler',
    'etl',
    'ingestion',
    'cron',
  ],
  api: [
    'api',
    'endpoint',
    'endpoints',
    'route',
    'routes',
    'router',
    'routers',
    'controller',
    'rest',
    'graphql',
    'http',
  ],
  services: ['service', 'services', 'business logic', 'use case', 'integration', 'client'],
  models: ['model', 'models', 'schema', 'schemas', 'types', 'entities', 'entity', 'dto', 'data model', 'orm'],
};

/** Compiled once: inference runs for every phase of plans with thousands of them. */
const PATH_MATCHERS = Object.entries(PATH_RULES).map(
  ([role, rules]) =>
    [
      role as Exclude<BuiltinRole, 'general'>,
      rules.map((r) => [r, new RegExp(r.source, 'g')] as const),
    ] as const,
);
const WORD_MATCHERS = Object.entries(WORD_RULES).map(
  ([role, words]) => [role as Exclude<BuiltinRole, 'general'>, words] as const,
);

const FILE_WEIGHT = 3;
const TITLE_WEIGHT = 2;
const BODY_WEIGHT = 0.5;

/** The role a single path points at (the pattern matching closest to the file name wins), or null. */
export function roleOfPath(path: string): Exclude<BuiltinRole, 'general'> | null {
  const p = path.toLowerCase().replace(/\\/g, '/');
  let best: Exclude<BuiltinRole, 'general'> | null = null;
  let bestEnd = -1;
  // PATH_MATCHERS follows BUILTIN_ROLES order, so testing comes first.
  for (const [role, rules] of PATH_MATCHERS) {
    // Test files are tests wherever they live (`tests/api/test_users.py` is testing, not api).
    if (best === 'testing') break;
    for (const [quick, all] of rules) {
      // Most rules miss; a plain test is much cheaper than collecting every match.
      if (!quick.test(p)) continue;
      const found = [...p.matchAll(all)].at(-1);
      if (!found) continue;
      const end = found.index + found[0].length;
      if (end > bestEnd) {
        best = role;
        bestEnd = end;
      }
    }
  }
  return best;
}

/**
 * The words of a text and its two-word phrases (role words have at most two), so each role word is a
 * set lookup: one pass over a phase's body instead of one regex scan per word.
 */
function wordsOf(lower: string): ReadonlySet<string> {
  const tokens = lower.split(/[^a-z0-9]+/).filter((t) => t !== '');
  const set = new Set(tokens);
  for (let i = 1; i < tokens.length; i++) set.add(`${tokens[i - 1] ?? ''} ${tokens[i] ?? ''}`);
  return set;
}

function wordsMatched(text: ReadonlySet<string>, words: readonly string[]): string[] {
  return words.filter((w) => text.has(w));
}

/** The role chosen for a stream and why (for the summary); `unknownHint` is a hint naming no known role. */
export interface RoleChoice {
  readonly role: string;
  readonly reason: string;
  readonly unknownHint?: string;
}

/** Finds a role by a plan hint (`Role: API`, `Agent: testing`), case-insensitively, or null. */
export function roleByHint(hint: string, roles: Readonly<Record<string, RoleDefinition>>): string | null {
  const key = hint.trim().toLowerCase().replace(/\s+/g, '-');
  if (Object.hasOwn(roles, key)) return key;
  // "API engineer", "testing agent": accept a known role name as one of the hint's words.
  const words = key.split(/[^a-z0-9_]+/);
  return Object.keys(roles).find((name) => words.includes(name)) ?? null;
}

/**
 * Chooses a role: a plan hint (`Role:` or `Agent:`) naming a known role wins; otherwise scores
 * each built-in role by file paths (3 per file), title words (2 each) and body words (0.5 each)
 * and takes the highest, ties broken by `BUILTIN_ROLES` order; no signal at all means `general`.
 */
export function inferRole(
  files: readonly string[],
  title: string,
  body: string,
  hints: AgentHints,
  roles: Readonly<Record<string, RoleDefinition>>,
): RoleChoice {
  for (const [kind, hint] of [
    ['Role', hints.role],
    ['Agent', hints.agent],
  ] as const) {
    if (hint === undefined) continue;
    const role = roleByHint(hint, roles);
    if (role !== null) return { role, reason: `the plan says "${kind}: ${hint}"` };
  }
  const scores = new Map<string, number>();
  const why = new Map<string, string[]>();
  const add = (role: string, points: number, note: string): void => {
    scores.set(role, (scores.get(role) ?? 0) + points);
    why.set(role, [...(why.get(role) ?? []), note]);
  };
  const byRole = new Map<string, string[]>();
  for (const file of files) {
    const role = roleOfPath(file);
    if (role !== null) byRole.set(role, [...(byRole.get(role) ?? []), file]);
  }
  for (const [role, paths] of byRole) {
    const sample = paths.slice(0, 2).join(', ') + (paths.length > 2 ? ', …' : '');
    add(
      role,
      FILE_WEIGHT * paths.length,
      `${paths.length} of ${files.length} files look like ${role} (${sample})`,
    );
  }
  const lowerTitle = wordsOf(title.toLowerCase());
  const lowerBody = wordsOf(body.toLowerCase());
  for (const [role, words] of WORD_MATCHERS) {
    const inTitle = wordsMatched(lowerTitle, words);
    if (inTitle.length > 0) add(role, TITLE_WEIGHT * inTitle.length, `title mentions ${quoteList(inTitle)}`);
    const inBody = wordsMatched(lowerBody, words).filter((w) => !inTitle.includes(w));
    if (inBody.length > 0) add(role, BODY_WEIGHT * inBody.length, `text mentions ${quoteList(inBody)}`);
  }
  let best: string = 'general';
  let bestScore = 0;
  for (const role of BUILTIN_ROLES) {
    const score = scores.get(role) ?? 0;
    if (score > bestScore) {
      best = role;
      bestScore = score;
    }
  }
  const unknown = hints.role ?? undefined;
  const unknownNote = unknown === undefined ? '' : `; "Role: ${unknown}" names no known role`;
  const extra = unknown === undefined ? {} : { unknownHint: unknown };
  if (best !== 'general' && !Object.hasOwn(roles, best)) best = 'general';
  if (best === 'general')
    return { role: 'general', reason: `no specialist signal in files or text${unknownNote}`, ...extra };
  return { role: best, reason: (why.get(best) ?? []).join('; ') + unknownNote, ...extra };
}

function quoteList(words: readonly string[]): string {
  return words.map((w) => `"${w}"`).join(', ');
}
