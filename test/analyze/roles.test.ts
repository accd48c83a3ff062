import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDiagnostic } from '../../src/analyze/diagnostics.js';
import { inferRole, parseRoleFile, roleOfPath } from '../../src/analyze/roles.js';
import { loadRoles } from '../../src/analyze/roles-loader.js';
import type { RoleDefinition } from '../../src/analyze/types.js';

let roles: Record<string, RoleDefinition>;
beforeAll(async () => {
  ({ roles } = await loadRoles(null));
});

describe('built-in roles', () => {
  it('ships the eight roles with their report names and sensible models', () => {
    const summary = Object.fromEntries(
      Object.values(roles).map((r) => [r.name, [r.reportName, r.model, r.source]]),
    );
    expect(summary).toEqual({
      migration: ['MIGRATION_COMPLETE.md', 'opus', 'builtin'],
      models: ['MODELS_COMPLETE.md', 'sonnet', 'builtin'],
      validation: ['VALIDATION_COMPLETE.md', 'opus', 'builtin'],
      services: ['SERVICES_COMPLETE.md', 'opus', 'builtin'],
      pipeline: ['PIPELINE_COMPLETE.md', 'opus', 'builtin'],
      api: ['API_COMPLETE.md', 'sonnet', 'builtin'],
      testing: ['TESTS_COMPLETE.md', 'sonnet', 'builtin'],
      general: ['GENERAL_COMPLETE.md', 'inherit', 'builtin'],
    });
    for (const role of Object.values(roles)) {
      expect(role.tools).toEqual(['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Bash']);
      expect(role.instructions).toContain('MAESTRO_REPORT_FILE');
      expect(role.instructions).toContain('## Public interfaces');
      expect(role.instructions).toContain('## Not done');
    }
  });
});

describe('parseRoleFile', () => {
  it('reads Claude Code sub-agent front matter, with defaults', () => {
    const role = parseRoleFile(
      '---\nname: Reviewer\ndescription: Reviews code\ntools:\n  - Read\n  - Grep\n---\n\nBe thorough.\n',
      '/r/.claude/agents/reviewer.md',
    );
    expect(role).toEqual({
      name: 'reviewer',
      description: 'Reviews code',
      tools: ['Read', 'Grep'],
      model: 'inherit',
      instructions: 'Be thorough.',
      reportName: 'REVIEWER_COMPLETE.md',
      source: '/r/.claude/agents/reviewer.md',
    });
  });

  it('returns diagnostics for broken files', () => {
    const cases: [string, RegExp][] = [
      ['no front matter', /no YAML front matter/],
      ['---\nname: [\n---\nbody', /not valid YAML/],
      ['---\ndescription: x\n---\nbody', /needs `name:`/],
      ['---\nname: a b\ndescription: x\n---\nbody', /needs `name:`/],
      ['---\nname: x\n---\nbody', /needs `description:`/],
      ['---\nname: x\ndescription: y\ntools: 3\n---\nbody', /`tools:`/],
      ['---\nname: x\ndescription: y\nreport: ../X.md\n---\nbody', /`report:`/],
      ['---\nname: x\ndescription: y\n---\n  \n', /body .* is empty/],
    ];
    for (const [text, why] of cases) {
      const result = parseRoleFile(text, 'r.md');
      expect(isDiagnostic(result), text).toBe(true);
      if (isDiagnostic(result)) {
        expect(result.code).toBe('bad-role-file');
        expect(result.message).toMatch(why);
      }
    }
  });
});

describe('roleOfPath', () => {
  it.each([
    ['alembic/versions/3f2a_add_orders.py', 'migration'],
    ['db/migrations/0002_users.sql', 'migration'],
    ['schema/001.sql', 'migration'],
    ['app/models/user.py', 'models'],
    ['src/types.ts', 'models'],
    ['src/user.schema.ts', 'models'],
    ['app/security/sanitize.py', 'validation'],
    ['src/middleware/auth.ts', 'validation'],
    ['app/validators.py', 'validation'],
    ['app/services/billing.py', 'services'],
    ['src/orders/order.service.ts', 'services'],
    ['app/workers/email.py', 'pipeline'],
    ['app/celery.py', 'pipeline'],
    ['src/jobs/cleanup.ts', 'pipeline'],
    ['app/routers/orders.py', 'api'],
    ['src/controllers/users.controller.ts', 'api'],
    ['app/api/v1/endpoints/items.py', 'api'],
    ['tests/api/test_orders.py', 'testing'],
    ['src/api/users.test.ts', 'testing'],
    ['pkg/server_test.go', 'testing'],
    ['monitoring/alerts.yml', 'testing'],
    ['README.md', null],
    // A code file named after migrations is not a database migration.
    ['lib/harness/validators/migration.ts', 'validation'],
    ['src/types/migration.ts', 'models'],
    ['src/components/Button.vue', null],
    // The pattern closest to the file name wins: a service inside the api package is a service.
    ['app/api/services/user_service.py', 'services'],
  ])('%s → %s', (path, role) => {
    expect(roleOfPath(path)).toBe(role);
  });
});

describe('inferRole', () => {
  it('scores realistic file sets', () => {
    const fastapi = [
      'app/routers/orders.py',
      'app/routers/__init__.py',
      'app/main.py',
      'tests/test_orders_api.py',
    ];
    expect(inferRole(fastapi, 'Order endpoints', '', {}, roles)).toEqual({
      role: 'api',
      reason:
        '2 of 4 files look like api (app/routers/orders.py, app/routers/__init__.py); title mentions "endpoints"',
    });
    const queue = ['app/workers/ingest.py', 'app/queue.py', 'app/models/job.py'];
    expect(inferRole(queue, 'Background ingestion', 'Use Celery for retries.', {}, roles).role).toBe(
      'pipeline',
    );
    const tests = ['tests/test_a.py', 'tests/test_b.py', 'tests/conftest.py'];
    expect(inferRole(tests, 'Add coverage', '', {}, roles).role).toBe('testing');
  });

  it('uses words when there are no files, and falls back to general', () => {
    expect(inferRole([], 'Database migration for orders', '', {}, roles).role).toBe('migration');
    expect(inferRole(['src/helpers/date.ts'], 'Migrate helpers to TypeScript', '', {}, roles).role).toBe(
      'general',
    );
    expect(inferRole([], 'Harden authentication', '', {}, roles).role).toBe('validation');
    expect(inferRole([], 'Polish the landing page', 'Make it nice.', {}, roles)).toEqual({
      role: 'general',
      reason: 'no specialist signal in files or text',
    });
  });

  it('lets a Role: or Agent: hint naming a known role win', () => {
    expect(inferRole(['app/api/x.py'], 'API', '', { role: 'models' }, roles).role).toBe('models');
    expect(inferRole(['app/api/x.py'], 'API', '', { agent: 'Testing agent' }, roles).role).toBe('testing');
    // An agent backend name is not a role.
    expect(inferRole(['app/api/x.py'], 'API', '', { agent: 'codex' }, roles).role).toBe('api');
    const unknown = inferRole(['app/api/x.py'], 'API', '', { role: 'wizard' }, roles);
    expect(unknown).toMatchObject({ role: 'api', unknownHint: 'wizard' });
  });
});

describe('loadRoles with user roles', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'maestro-roles-'));
    await mkdir(join(repo, '.claude/agents'), { recursive: true });
    await mkdir(join(repo, '.maestro/roles'), { recursive: true });
    await writeFile(
      join(repo, '.claude/agents/api.md'),
      '---\nname: api\ndescription: Our API style\nmodel: haiku\n---\nUse our router conventions.\n',
    );
    await writeFile(
      join(repo, '.claude/agents/frontend.md'),
      '---\nname: frontend\ndescription: Vue work\ntools: Read, Edit\n---\nVue 3 only.\n',
    );
    await writeFile(
      join(repo, '.maestro/roles/frontend.md'),
      '---\nname: frontend\ndescription: Vue work (Maestro)\nreport: UI_DONE.md\n---\nVue 3, composition API.\n',
    );
    await writeFile(join(repo, '.maestro/roles/broken.md'), 'no front matter here');
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('overrides built-ins by name, adds new roles, and reports broken files', async () => {
    const { roles: loaded, diagnostics } = await loadRoles(repo);
    expect(loaded['api']).toMatchObject({
      model: 'haiku',
      instructions: 'Use our router conventions.',
      reportName: 'API_COMPLETE.md',
      source: join(repo, '.claude/agents/api.md'),
    });
    // .maestro/roles wins over .claude/agents.
    expect(loaded['frontend']).toMatchObject({
      description: 'Vue work (Maestro)',
      reportName: 'UI_DONE.md',
      tools: [],
    });
    expect(loaded['testing']?.source).toBe('builtin');
    expect(Object.keys(loaded)).toHaveLength(9);
    expect(diagnostics.map((d) => [d.code, d.severity, d.file])).toEqual([
      ['bad-role-file', 'warning', join(repo, '.maestro/roles/broken.md')],
    ]);
  });
});
