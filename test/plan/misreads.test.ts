/**
 * The five kinds of misread seen on plans Maestro had never read (issue 11), each from plan shapes
 * written here: the phase level, dependency statements missed, non-dependencies read as dependencies,
 * phases dropped, and paths dropped silently. Also how each reading is explained.
 */
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/parse.js';

const parse = (md: string) => parsePlan(md, 'plan.md');
const ids = (md: string): string[] => parse(md).plan.phases.map((p) => p.id);
const edges = (md: string): Record<string, string[]> =>
  Object.fromEntries(parse(md).plan.phases.map((p) => [p.id, [...p.dependsOn]]));

describe('kind 1: the phase level', () => {
  it('takes any repeated "Word N" heading as the units, with the construct and its lines explained', () => {
    const md = [
      '# Kitchen rebuild',
      '',
      '### Lane 1: Plumbing',
      'Files: `pipes/main.txt`',
      '',
      '### Lane 2: Wiring',
      'Files: `wires/main.txt`',
      '',
      '### Lane 3: Paint',
      'Files: `walls/colour.txt`',
    ].join('\n');
    const { plan } = parse(md);
    expect(plan.phases.map((p) => [p.id, p.title])).toEqual([
      ['1', 'Plumbing'],
      ['2', 'Wiring'],
      ['3', 'Paint'],
    ]);
    expect(plan.reading?.phases).toContain('`### Lane N:` headings (lines 3, 6, 9)');
  });

  it('takes the outermost of nested repeated levels (Week > Day > Task) and names the sub-steps', () => {
    const md = [
      '## Week 1',
      '### Day 1',
      '#### Task 1.1: Scaffold',
      '- Create `app/main.py`',
      '### Day 2',
      '#### Task 1.2: Models',
      '- Create `app/models.py`',
      '## Week 2',
      '### Day 3',
      '#### Task 2.1: API',
      '- Create `app/api.py`',
    ].join('\n');
    const { plan } = parse(md);
    expect(plan.phases.map((p) => p.id)).toEqual(['1', '2']);
    expect(plan.phases[0]?.files.map((f) => f.path)).toEqual(['app/main.py', 'app/models.py']);
    expect(plan.reading?.subSteps).toMatch(/Day N.*sub-steps|sub-steps/);
  });

  it('does not read the sub-headings every phase repeats (Tests / Implementation) as phases', () => {
    const md = [
      '## Phase 1: Parser',
      '### Tests',
      '- Add `test/parser.test.ts`',
      '### Implementation',
      '- Create `src/parser.ts`',
      '## Phase 2: Printer',
      '### Tests',
      '- Add `test/printer.test.ts`',
      '### Implementation',
      '- Create `src/printer.ts`',
    ].join('\n');
    expect(ids(md)).toEqual(['1', '2']);
  });

  it('prefers repeated task items over a lone title heading and a numbered list of conventions', () => {
    const md = [
      '# Story 4.2: Export button',
      '',
      'Conventions:',
      '1. Keep commits small',
      '2. Run the linter',
      '',
      '## Tasks',
      '- [ ] Task 1: Add the button (`web/Export.tsx`)',
      '- [ ] Task 2: Wire the endpoint (`api/export.py`)',
      '- [x] Task 3: Document it (`docs/export.md`)',
    ].join('\n');
    const { plan } = parse(md);
    expect(plan.phases.map((p) => p.id)).toEqual(['1', '2', '3']);
    expect(plan.reading?.phaseStyle).toBe('list');
  });

  it('reads sibling unit words at one level, drops the heading that only announces them, and warns with the setting for the other reading', () => {
    const md = [
      '## Phase 0: Skeleton',
      '### Step 0.1',
      '- Create `core/types.ts`',
      '## Phase 1: Parallel streams',
      'The streams below run side by side.',
      '## Stream 1: Import',
      '- Create `import/reader.ts`',
      '## Stream 2: Export',
      '- Create `export/writer.ts`',
      '## Phase 2: Release',
      '- Update `CHANGELOG.md`',
    ].join('\n');
    const { plan, diagnostics } = parse(md);
    expect(plan.phases.map((p) => p.id)).toEqual(['P0', 'S1', 'S2', 'P2']);
    const warning = diagnostics.find((d) => d.code === 'ambiguous-phase-level');
    expect(warning?.severity).toBe('warning');
    expect(warning?.line).toBe(4);
    expect(warning?.message).toContain('phaseLevel: "## Phase"');
    // Stating the other reading in a maestro block gives it.
    const stated = parse(`${md}\n\n\`\`\`maestro\nphaseLevel: "## Phase"\n\`\`\`\n`).plan;
    expect(stated.phases.map((p) => p.id)).toEqual(['0', '1', '2']);
  });
});

describe('kind 2: dependency statements that were missed', () => {
  const units = (deps: Record<string, string>): string =>
    ['A', 'B', 'C', 'D']
      .map(
        (id) => `## Stream ${id}: Work ${id}\n${deps[id] ?? ''}\n- Create \`src/${id.toLowerCase()}.ts\`\n`,
      )
      .join('\n');

  it('reads bold labels: **Depends on:**, **Sequential after:**, and a condition such as "Stream B complete"', () => {
    const md = units({
      B: '**Depends on:** Stream A',
      C: '**Sequential after:** B',
      D: '**Starts when:** Stream B complete',
    });
    expect(edges(md)).toEqual({ A: [], B: ['A'], C: ['B'], D: ['B'] });
    const reading = parse(md).plan.reading;
    const line = md.split('\n').indexOf('**Sequential after:** B') + 1;
    expect(reading?.edges.find((e) => e.phase === 'C')).toMatchObject({ dependsOn: 'B', line });
  });

  it('expands id ranges (`U1-U3`) and lifts task-level dependencies to their phases', () => {
    const md = [
      '### U1. Store',
      '### U2. Cache',
      '### U3. Index',
      '### U4. Search',
      '- **Dependencies:** U1-U3',
    ].join('\n');
    expect(edges(md)['U4']).toEqual(['U1', 'U2', 'U3']);
    const lifted = [
      '## Milestone 1: Base',
      '### Task 1: Types',
      '### Task 2: Store',
      '## Milestone 2: Sync',
      '### Task 3: Protocol',
      'Depends on: Task 2',
    ].join('\n');
    expect(edges(lifted)).toEqual({ '1': [], '2': ['1'] });
  });

  it('reads a label over a list of phases as the list’s condition, and "runs last" as after every other phase', () => {
    const md = [
      '## Task 1: Alpha',
      '## Task 2: Beta',
      '## Task 3: Gamma',
      '## Task 4: Delta',
      '',
      '## Order notes',
      '**Start after Task 1 is merged:**',
      '- Task 2',
      '',
      '**Should run last:**',
      '- Task 4',
    ].join('\n');
    expect(edges(md)).toEqual({ '1': [], '2': ['1'], '3': [], '4': ['1', '2', '3'] });
  });
});

describe('kind 3: non-dependencies that were read as dependencies', () => {
  it('"run these in parallel" and "Parallel with:" add no edges; a merge order list gives no chain', () => {
    const md = [
      '## Phase 1: Base',
      'Depends on: none',
      '## Phase 2: Left',
      'Depends on: Phase 1. Parallel with: Phase 3',
      '## Phase 3: Right',
      'Depends on: Phase 1 (can run in parallel with Phase 2)',
      '',
      '## Merge order',
      '1. Phase 3',
      '2. Phase 2',
      '3. Phase 1',
    ].join('\n');
    expect(edges(md)).toEqual({ '1': [], '2': ['1'], '3': ['1'] });
  });

  it('warns when an order list contradicts a phase’s own "none", with the setting that keeps only the phase’s line', () => {
    const md = [
      '## Task 1: Alpha',
      'Dependencies: None',
      '## Task 2: Beta',
      'Dependencies: None',
      '',
      '## Notes',
      '**Should run after Task 1 is merged:**',
      '- Task 2',
    ].join('\n');
    const { plan, diagnostics } = parse(md);
    expect(plan.phases[1]?.dependsOn).toEqual(['1']);
    const warning = diagnostics.find((d) => d.code === 'dependency-contradiction');
    expect(warning?.line).toBe(7);
    expect(warning?.message).toContain('phases:\n      - id: "2"\n        dependsOn: []');
    const stated = parse(`${md}\n\n\`\`\`maestro\nphases:\n  - id: "2"\n    dependsOn: []\n\`\`\`\n`).plan;
    expect(stated.phases[1]?.dependsOn).toEqual([]);
  });

  it('a numbered list sequenced with "then" / "finally" is an order list, its entries waves', () => {
    const md = [
      '## Plan of attack',
      '1. Build Phase 1 and Phase 2 first',
      '2. Then Phase 3',
      '3. Finally Phase 4',
      '',
      '## Phase 1: A',
      '## Phase 2: B',
      '## Phase 3: C',
      '## Phase 4: D',
    ].join('\n');
    expect(edges(md)).toEqual({ '1': [], '2': [], '3': ['1', '2'], '4': ['3'] });
  });

  it('a line that takes itself back gives no edge but still states the phase’s dependencies', () => {
    const md = ['## Phase 1: A', '## Phase 2: B', "**Depends on:** Phase 1 doesn't need to be finished"].join(
      '\n',
    );
    const { plan } = parse(md);
    expect(plan.dependencyRule).toBe('explicit');
    expect(plan.phases[1]?.dependsOn).toEqual([]);
    expect(plan.phases[1]?.explicitDependencies).toBe(true);
  });
});

describe('kind 4: phases that were dropped', () => {
  it('keeps phases with status words and out-of-order numbering', () => {
    const md = [
      '## Phase 0: Setup ✅',
      '## Phase 2: Search (PARTIAL)',
      '## Phase 1: Storage — DONE',
      '## Phase 1d: Storage follow-up (deferred)',
      '## Phase 4: Launch',
    ].join('\n');
    expect(ids(md)).toEqual(['0', '2', '1', '1d', '4']);
  });

  it('leaves struck-through and CANCELLED work out, files too, and reports it', () => {
    const md = [
      '## Phase 1: Keep',
      '- Create `src/keep.ts`',
      '## ~~Phase 2: Old idea~~',
      '- Create `src/old.ts`',
      '## Phase 3: Gone — CANCELLED',
      '- Create `src/gone.ts`',
      '## Phase 4: Also keep',
      '- Create `src/also.ts`',
    ].join('\n');
    const { plan, diagnostics } = parse(md);
    expect(plan.phases.map((p) => p.id)).toEqual(['1', '4']);
    expect(plan.phases.flatMap((p) => p.files.map((f) => f.path))).toEqual(['src/keep.ts', 'src/also.ts']);
    const reported = diagnostics.filter((d) => d.code === 'cancelled-work');
    expect(reported.map((d) => d.line)).toEqual([3, 5]);
  });
});

describe('kind 5: paths that vanished', () => {
  it('keeps backticked paths with spaces, apostrophes, a leading dash, unicode and brace globs', () => {
    const md = [
      '## Phase 1: Docs',
      'Files:',
      '- `docs/Read Me.md`',
      "- `config/it's.json`",
      '- `config/-dash.yml`',
      '- `docs/naïve-ünïcode.md`',
      '- `src/index/{mod,entry}.rs`',
    ].join('\n');
    const files = parse(md).plan.phases[0]?.files ?? [];
    expect(files.map((f) => f.path)).toEqual([
      'docs/Read Me.md',
      "config/it's.json",
      'config/-dash.yml',
      'docs/naïve-ünïcode.md',
      'src/index/{mod,entry}.rs',
    ]);
    expect(files.find((f) => f.path.includes('{'))?.glob).toBe(true);
  });

  it('reports each path-like token it does not take, with its line and the reason', () => {
    const md = [
      '## Phase 1: Api',
      '- Add the route to `src/api/routes.ts`, following the pattern in `src/api/users.ts`',
      '- For example `src/api/sample.ts` shows the shape',
      '- Spec at https://example.com/spec/openapi.yaml',
      '```sh',
      'cat scripts/build.sh',
      '```',
    ].join('\n');
    const { plan, diagnostics } = parse(md);
    expect(plan.phases[0]?.files.map((f) => f.path)).toEqual(['src/api/routes.ts']);
    const notTaken = diagnostics.filter((d) => d.code === 'path-not-taken');
    const byPath = new Map(notTaken.map((d) => [/"([^"]+)"/.exec(d.message)?.[1], d]));
    expect(byPath.get('src/api/users.ts')?.message).toMatch(/cited for context/);
    expect(byPath.get('src/api/users.ts')?.line).toBe(2);
    expect(byPath.get('src/api/sample.ts')?.message).toMatch(/example/);
    expect(byPath.get('scripts/build.sh')?.message).toMatch(/code block/);
    expect([...byPath.keys()].some((p) => p?.startsWith('https://'))).toBe(true);
    expect(notTaken.every((d) => d.severity === 'info')).toBe(true);
  });
});
