import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/parse.js';
import { planSettingsJsonSchema } from '../../src/plan/settings.js';

const parse = (md: string) => parsePlan(md, 'plan.md');
const paths = (md: string, index = 0): string[] =>
  parse(md).plan.phases[index]?.files.map((f) => f.path) ?? [];

describe('phases', () => {
  it('reads "## Phase N:" headings with ids, titles and lines', () => {
    const { plan } = parse(
      '# Plan\n\n## Overview\ntext\n\n## Phase 1: Database Migration\nx\n\n## Phase 2: API\ny\n\n## Risks\nz\n',
    );
    expect(plan.phases.map((p) => [p.id, p.title, p.line])).toEqual([
      ['1', 'Database Migration', 6],
      ['2', 'API', 9],
    ]);
    expect(plan.phases[1]?.endLine).toBe(10);
    expect(plan.title).toBe('Plan');
  });

  it('reads "### Step 2 — Title", "## Stage 3", "## Milestone" and "### 1. Title"', () => {
    expect(parse('### Step 1 — Setup\n\n### Step 2 — Build\n').plan.phases.map((p) => p.title)).toEqual([
      'Setup',
      'Build',
    ]);
    expect(parse('## Stage 1\n\n## Stage 2\n').plan.phases.map((p) => p.id)).toEqual(['1', '2']);
    expect(parse('## Milestone 1: Alpha\n\n## Milestone 2: Beta\n').plan.phases).toHaveLength(2);
    expect(
      parse('## Plan\n\n### 1. First\n\n### 2. Second\n\n## Testing Strategy\n').plan.phases.map(
        (p) => p.title,
      ),
    ).toEqual(['First', 'Second']);
  });

  it('takes the outermost repeating level and rolls sub-steps into it', () => {
    const md =
      '## Phase 1: A\n### Task 1.1: x\n- Create `a.ts`\n### Task 1.2: y\n- Create `b.ts`\n## Phase 2: B\n### Task 2.1\n- Modify `c.ts`\n';
    const { plan } = parse(md);
    expect(plan.phases.map((p) => p.id)).toEqual(['1', '2']);
    expect(plan.phases[0]?.files.map((f) => f.path)).toEqual(['a.ts', 'b.ts']);
  });

  it('reads task-list items as phases when there are no phase headings', () => {
    const { plan } = parse(
      '# Tasks\n\n- [ ] 1. Set up DB\n  - Files: `db.py`\n- [ ] 2. Add API\n  - Create `api/routes.py`\n',
    );
    expect(plan.phases.map((p) => [p.id, p.title])).toEqual([
      ['1', 'Set up DB'],
      ['2', 'Add API'],
    ]);
    expect(plan.phases[1]?.files.map((f) => f.path)).toEqual(['api/routes.py']);
  });

  it('ignores headings inside fenced code and non-phase sections', () => {
    const md =
      '## Phase 1: A\n```md\n## Phase 9: fake\n```\n## Phase 2: B\n## Rollback\n## Success criteria\n';
    expect(parse(md).plan.phases.map((p) => p.id)).toEqual(['1', '2']);
  });

  it('falls back to plain sections and says so', () => {
    const result = parse('# Plan\n## Set up the database\nx\n## Add the API\ny\n## Risks\nz\n');
    expect(result.plan.phases.map((p) => p.title)).toEqual(['Set up the database', 'Add the API']);
    expect(result.diagnostics.map((d) => d.code)).toContain('phases-from-sections');
  });

  it('reads GSD <task> elements', () => {
    const md =
      '<tasks>\n<task type="auto">\n  <name>Task 1: Stubs</name>\n  <files>src/a.test.ts, src/b.test.ts</files>\n</task>\n<task>\n  <name>Task 2: Worker</name>\n  <files>src/w.js</files>\n</task>\n</tasks>\n';
    const { plan } = parse(md);
    expect(plan.phases.map((p) => [p.id, p.title, p.line])).toEqual([
      ['1', 'Stubs', 3],
      ['2', 'Worker', 7],
    ]);
    expect(plan.phases[0]?.files.map((f) => f.path)).toEqual(['src/a.test.ts', 'src/b.test.ts']);
  });
});

describe('files', () => {
  it('reads Files: lines, bold labels with bullet lists and Create/Modify/Delete lines with actions', () => {
    const md =
      '## Phase 1: A\nFiles: a.py, b.py\n\n**Files:**\n- `src/c.ts` (new file)\n- `src/dir/`\n\nCreate: `x/new.ts`\nModify: `x/old.ts`\nDelete: `x/gone.ts`\n';
    const files = parse(md).plan.phases[0]?.files ?? [];
    expect(files.map((f) => [f.path, f.action])).toEqual([
      ['a.py', 'unknown'],
      ['b.py', 'unknown'],
      ['src/c.ts', 'create'],
      ['src/dir/', 'unknown'],
      ['x/new.ts', 'create'],
      ['x/old.ts', 'modify'],
      ['x/gone.ts', 'delete'],
    ]);
  });

  it('reads "Files to modify" subsections and tables with a path column', () => {
    const md =
      '## Step 1: A\n### Files to Modify\n- `app.py` — add middleware\n\n| File | Change |\n|---|---|\n| `src/x.ts` | edit |\n';
    expect(paths(md)).toEqual(['app.py', 'src/x.ts']);
  });

  it('reads inline-code paths in task bullets and globs, normalising ./, backticks and :line', () => {
    const md = '## Phase 1: A\n- Add the route to `./src/api/routes.ts:42`\n- Update `app/models/*.py`\n';
    const files = parse(md).plan.phases[0]?.files ?? [];
    expect(files.map((f) => [f.path, f.glob])).toEqual([
      ['src/api/routes.ts', false],
      ['app/models/*.py', true],
    ]);
  });

  it('skips code blocks, URLs, cited paths, bare directories and non-phase sections', () => {
    const md =
      '## Overview\n- `docs/overview.md`\n## Phase 1: A\n- See `docs/x.md` for context\n- Following the pattern in `src/old.ts`, add `src/new.ts`\n- Read https://example.com/a/b.html\n- Create the `src/analysis/` directory\n```ts\nimport x from "src/code.ts";\n```\n';
    expect(paths(md)).toEqual(['src/new.ts']);
  });

  it('keeps only the full path when a phase names both forms', () => {
    expect(paths('## Phase 1: A\n- Update `src/git_adr/cli.py`\n- Edit `cli.py` again\n')).toEqual([
      'src/git_adr/cli.py',
    ]);
  });

  it('keeps paths escaping the repository for the analyzer to report', () => {
    expect(paths('## Phase 1: A\nFiles: `../x.txt`, `/etc/passwd`\n')).toEqual(['../x.txt', '/etc/passwd']);
  });
});

describe('dependencies', () => {
  const ids = (md: string) => parse(md).plan.phases.map((p) => p.dependsOn);

  it('uses the sequential rule when nothing is stated', () => {
    const { plan } = parse('## Phase 1: A\n## Phase 2: B\n## Phase 3: C\n');
    expect(plan.dependencyRule).toBe('sequential');
    expect(plan.phases.map((p) => p.dependsOn)).toEqual([[], ['1'], ['2']]);
    expect(plan.dependencyRuleReason).toMatch(/no dependencies/);
  });

  it('reads Depends on / Requires / Prerequisites / Blocked by fields, by number, id and title', () => {
    const md =
      '## Phase 1: Database Migration\nDependencies: none\n## Phase 2: API\nDepends on: Phase 1\n## Phase 3: UI\nRequires: 1, 2\n## Phase 4: Docs\n**Prerequisites**: Database Migration\n## Phase 5: Ship\nBlocked by Phase 4\n';
    const { plan } = parse(md);
    expect(plan.dependencyRule).toBe('explicit');
    expect(plan.phases.map((p) => p.dependsOn)).toEqual([[], ['1'], ['1', '2'], ['1'], []]);
    expect(plan.phases.map((p) => p.explicitDependencies)).toEqual([true, true, true, true, false]);
  });

  it('reads heading notes and lifts sub-step edges to phases', () => {
    const md =
      '## Wave 1: Core (Independent)\n### Task 1: Types\n## Wave 2: Runner (Depends on Wave 1)\n### Task 2: Run\n## Wave 3: CLI\n### Task 3: Cli\n- Depends on: Task 1, Task 2\n';
    expect(ids(md)).toEqual([[], ['1'], ['1', '2']]);
  });

  it('maps a dependency on a file to the phase that creates it', () => {
    const md =
      '## Phase 1: A\nDepends on: none\n- Create `lib/types.ts`\n## Phase 2: B\n- Depends on: `lib/types.ts`\n';
    expect(ids(md)).toEqual([[], ['1']]);
  });

  it('reads arrow diagrams, dependency tables and "all previous"', () => {
    const md =
      '## Phase 1: A\n## Phase 2: B\n## Phase 3: C\n## Phase 4: D\n## Dependencies\nPhase 1 → Phase 2\n\n| Phase | Depends on |\n|---|---|\n| 3 | Phase 1 |\n| 4 | All previous |\n';
    expect(ids(md)).toEqual([[], ['1'], ['1'], ['1', '2', '3']]);
  });

  it('reads waves with gates and implementation-order lists', () => {
    const waves =
      '## Group 1: A\n## Group 2: B\n## Group 3: C\n## Execution\n### Wave 1\n- Group 1\n- Group 2\n### Wave 2 (after Wave 1)\n- Group 3\n';
    expect(ids(waves)).toEqual([[], [], ['1', '2']]);
    const order =
      '## Phase 1: A\n## Phase 2: B\n## Phase 3: C\n## Implementation order\n1. Phase 2\n2. Phase 1\n3. Phase 3\n';
    expect(ids(order)).toEqual([['2'], [], ['1']]);
  });

  it('reports unknown references and self-dependencies as errors with lines', () => {
    const { diagnostics } = parse('## Phase 1: A\nDepends on: Phase 9\n## Phase 2: B\nDepends on: Phase 2\n');
    expect(diagnostics.find((d) => d.code === 'unknown-dependency')).toMatchObject({
      severity: 'error',
      line: 2,
    });
    expect(diagnostics.find((d) => d.code === 'self-dependency')).toMatchObject({
      severity: 'error',
      line: 4,
    });
  });

  it('reports a dependency it cannot resolve as info', () => {
    const { diagnostics } = parse('## Phase 1: A\n## Phase 2: B\nDepends on: the platform team\n');
    expect(diagnostics.find((d) => d.code === 'unresolved-dependency')).toMatchObject({
      severity: 'info',
      line: 3,
    });
  });
});

describe('critical fixes, validation and hints', () => {
  it('attaches fixes to the phases they name or whose files they mention, else to all', () => {
    const md =
      '## Critical Fixes\n1. Phase 2 must escape SQL\n2. Guard `src/db.ts` against nulls\n3. Log every error\n## Phase 1: A\n- Create `src/db.ts`\nCritical: keep the schema stable\n## Phase 2: B\n- Modify `src/api.ts`\n';
    const { plan } = parse(md);
    expect(plan.criticalFixes.map((f) => [f.id, f.phases])).toEqual([
      ['C1', ['2']],
      ['C2', ['1']],
      ['C3', []],
      ['C4', ['1']],
    ]);
    expect(plan.phases[0]?.criticalFixes).toEqual(['C2', 'C3', 'C4']);
    expect(plan.phases[1]?.criticalFixes).toEqual(['C1', 'C3']);
  });

  it('reads a fix that wraps onto indented continuation lines as one fix', () => {
    const md =
      '## Critical fixes\n1. **Path traversal**: file names must be sanitised before they\n   touch the disk (Phase 2).\n2. Never log tokens.\n## Phase 1: A\n- Create `a.ts`\n## Phase 2: B\n- Create `b.ts`\n';
    const { plan } = parse(md);
    expect(plan.criticalFixes.map((f) => [f.id, f.phases, f.text.endsWith('(Phase 2).')])).toEqual([
      ['C1', ['2'], true],
      ['C2', [], false],
    ]);
  });

  it('reads validation commands per phase and for the whole plan, and agent hints', () => {
    const md =
      '## Phase 1: A\nAgent: backend\nModel: haiku\nRole: reviewer\nValidation: `npm test -- a`\n## Phase 2: B\n**Verify:**\n```bash\nnpm run build\n# comment\nnpm run lint\n```\n## Verification\n```sh\nmake check\n```\n';
    const { plan } = parse(md);
    expect(plan.phases[0]?.hints).toEqual({ agent: 'backend', model: 'haiku', role: 'reviewer' });
    expect(plan.phases[0]?.validation.map((v) => v.command)).toEqual(['npm test -- a']);
    expect(plan.phases[1]?.validation.map((v) => [v.command, v.line])).toEqual([
      ['npm run build', 9],
      ['npm run lint', 11],
    ]);
    expect(plan.validation.map((v) => v.command)).toEqual(['make check']);
  });
});

describe('settings', () => {
  it('lets front matter state phases, dependencies, files and settings, winning over inference', () => {
    const md =
      '---\nmaxParallel: 3\nmodel: sonnet\nphases:\n  - id: 1\n    files: [a.ts]\n  - id: 2\n    dependsOn: []\n    model: haiku\n  - id: 3\n    dependsOn: [1]\n---\n## Phase 1: A\n## Phase 2: B\nDepends on: Phase 1\n## Phase 3: C\n';
    const { plan, diagnostics } = parse(md);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(plan.settings).toEqual({ maxParallel: 3, model: 'sonnet' });
    expect(plan.phases.map((p) => p.dependsOn)).toEqual([[], [], ['1']]);
    expect(plan.phases[0]?.files.map((f) => f.path)).toEqual(['a.ts']);
    expect(plan.phases[1]?.hints.model).toBe('haiku');
  });

  it('reads a ```maestro``` block and reports unknown keys as info', () => {
    const { plan, diagnostics } = parse(
      '## Phase 1: A\n## Phase 2: B\n```maestro\nagent: codex\nmaxParallel: 2\nextra: 1\n```\n',
    );
    expect(plan.settings).toEqual({ agent: 'codex', maxParallel: 2 });
    expect(diagnostics.find((d) => d.code === 'unknown-setting')).toMatchObject({ severity: 'info' });
  });

  it('publishes a JSON schema', () => {
    const schema = planSettingsJsonSchema();
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties as object)).toContain('maxParallel');
  });
});

describe('large plans', () => {
  // Speed is measured by `npm run bench` (bench/analyze.mjs), never by a timed test: this checks the result.
  const bigPlan = (phases: number): string => {
    const parts: string[] = ['# Big plan'];
    for (let i = 1; i <= phases; i++) {
      parts.push(
        `## Phase ${i}: Work ${i}`,
        `Depends on: Phase ${Math.max(1, i - 1)}`,
        `- Create \`src/m${i}/file${i}.ts\``,
        '',
      );
    }
    return parts.join('\n');
  };

  it('reads every phase, file and dependency of a 2,000-phase plan', () => {
    const { plan, diagnostics } = parse(bigPlan(2000));
    expect(plan.phases).toHaveLength(2000);
    expect(plan.phases[1999]?.dependsOn).toEqual(['1999']);
    expect(plan.phases[1999]?.files.map((f) => f.path)).toEqual(['src/m2000/file2000.ts']);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([
      expect.objectContaining({ code: 'self-dependency', line: 3 }),
    ]);
  });
});

describe('published plan settings JSON Schema', () => {
  it('equals z.toJSONSchema of the settings schema (run `npm run schemas` to update)', async () => {
    const { readFile } = await import('node:fs/promises');
    const committed = JSON.parse(
      await readFile(new URL('../../schema/plan-settings.schema.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(committed).toEqual(planSettingsJsonSchema());
  });
});
