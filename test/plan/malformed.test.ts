/** Malformed plans: each gives the right diagnostic code and a line, and parsePlan never throws. */
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/parse.js';

interface Case {
  readonly name: string;
  readonly text: string;
  readonly code: string;
  readonly line: number;
}

const cases: Case[] = [
  { name: 'empty file', text: '', code: 'empty-plan', line: 1 },
  { name: 'whitespace only', text: '  \n\n\t\n', code: 'empty-plan', line: 1 },
  { name: 'binary content', text: '# Plan\n\nabc\0\x01\x02', code: 'binary-content', line: 3 },
  { name: 'no phases', text: '# Notes\n\nJust some thoughts.\n', code: 'no-phases', line: 1 },
  {
    name: 'only non-phase sections',
    text: '# Plan\n## Overview\nx\n## Risks\ny\n',
    code: 'no-phases',
    line: 1,
  },
  {
    name: 'unknown phase reference',
    text: '## Phase 1: A\n## Phase 2: B\nDepends on: Phase 7\n',
    code: 'unknown-dependency',
    line: 3,
  },
  {
    name: 'unknown step reference',
    text: '## Step 1: A\n## Step 2: B\n- Requires: Step 12\n',
    code: 'unknown-dependency',
    line: 3,
  },
  {
    name: 'self dependency',
    text: '## Phase 1: A\n## Phase 2: B\nDepends on: Phase 2\n',
    code: 'self-dependency',
    line: 3,
  },
  {
    name: 'self dependency by number',
    text: '## Phase 1: A\nRequires: 1\n## Phase 2: B\n',
    code: 'self-dependency',
    line: 2,
  },
  {
    name: 'duplicate phase ids',
    text: '## Phase 1: A\n## Phase 2: B\n## Phase 2: C\n',
    code: 'duplicate-phase-id',
    line: 3,
  },
  {
    name: 'invalid front matter YAML',
    text: '---\nmaxParallel: [1,\n---\n## Phase 1: A\n',
    code: 'invalid-settings',
    line: 2,
  },
  {
    name: 'front matter failing the schema',
    text: '---\nmaxParallel: many\n---\n## Phase 1: A\n',
    code: 'invalid-settings',
    line: 1,
  },
  {
    name: 'front matter phases without ids',
    text: '---\nphases:\n  - title: x\n---\n## Phase 1: A\n',
    code: 'invalid-settings',
    line: 1,
  },
  {
    name: 'invalid maestro block YAML',
    text: '## Phase 1: A\n\n```maestro\nmodel: [\n```\n',
    code: 'invalid-settings',
    line: 4,
  },
  {
    name: 'maestro block not a mapping',
    text: '## Phase 1: A\n\n```maestro\n- a\n- b\n```\n',
    code: 'invalid-settings',
    line: 3,
  },
  {
    name: 'maestro block with unknown keys',
    text: '## Phase 1: A\n\n```maestro\ncolour: blue\n```\n',
    code: 'unknown-setting',
    line: 3,
  },
  {
    name: 'settings depending on unknown phase',
    text: '```maestro\nphases:\n  - id: 1\n    dependsOn: [9]\n```\n## Phase 1: A\n',
    code: 'unknown-dependency',
    line: 1,
  },
  {
    name: 'unterminated fence',
    text: '## Phase 1: A\n\n```bash\nnpm test\n## Phase 2: B\n',
    code: 'unterminated-code-block',
    line: 3,
  },
  {
    name: 'unterminated front matter',
    text: '---\ntitle: x\n## Phase 1: A\n',
    code: 'unterminated-front-matter',
    line: 1,
  },
  {
    name: 'unresolvable dependency text',
    text: '## Phase 1: A\n## Phase 2: B\nBlocked by: legal review\n',
    code: 'unresolved-dependency',
    line: 3,
  },
  {
    name: 'mixed conventions with a bad reference',
    text: '## Phase 1: A\n### Step 1.1\n- [ ] 1. do\n## Stage 2\n## Phase 2: B\nDepends on: Phase 5\n',
    code: 'unknown-dependency',
    line: 6,
  },
  { name: 'huge file', text: `# Plan\n${'x'.repeat(5 * 1024 * 1024)}\n`, code: 'plan-too-large', line: 1 },
  {
    name: 'only code blocks',
    text: '```md\n## Phase 1: A\n## Phase 2: B\n```\n',
    code: 'no-phases',
    line: 1,
  },
];

describe('malformed plans', () => {
  for (const c of cases) {
    it(`${c.name} → ${c.code}`, () => {
      const result = parsePlan(c.text, 'bad.md');
      const found = result.diagnostics.find((d) => d.code === c.code);
      expect(found, JSON.stringify(result.diagnostics)).toBeDefined();
      expect(found?.line).toBe(c.line);
      expect(found?.file).toBe('bad.md');
      expect(found?.message).toMatch(/^bad\.md:\d+: /);
    });
  }

  it('keeps paths escaping the repository as written (the analyzer reports them)', () => {
    const { plan } = parsePlan('## Phase 1: A\nFiles: `../outside.txt`, `/etc/passwd`\n', 'p.md');
    expect(plan.phases[0]?.files.map((f) => f.path)).toEqual(['../outside.txt', '/etc/passwd']);
  });

  it('never throws on random bytes and odd Markdown', () => {
    const inputs = [
      '\uFEFF# x',
      '#'.repeat(1000),
      '|a|\n|-|\n|' + '|'.repeat(500),
      '- '.repeat(5000),
      '<task>\n<name>',
    ];
    for (const text of inputs) expect(() => parsePlan(text, 'x.md')).not.toThrow();
  });
});
