import { describe, expect, it } from 'vitest';
import { analyzePlan } from '../../src/analyze/analyze.js';
import { loadBuiltinPrices } from '../../src/analyze/prices.js';
import { loadRoles } from '../../src/analyze/roles-loader.js';
import { parsePlan } from '../../src/plan/parse.js';
import { formatAnalysisSummary } from '../../src/ui/analysis-summary.js';

async function summary(md: string): Promise<string> {
  const { roles } = await loadRoles(null);
  const prices = await loadBuiltinPrices();
  return formatAnalysisSummary(
    analyzePlan(parsePlan(md, 'plan.md'), { repo: null, repoFiles: null, roles, prices }),
  );
}

describe('analyze summary', () => {
  it('lists streams with roles and dependencies, waves, critical path, estimate and the next step', async () => {
    const text = await summary(
      '# P\n## Phase 1: Migration\nFiles: `db/001.sql`\n## Phase 2: API\nDepends on: Phase 1\nFiles: `src/api/routes.ts`\n',
    );
    expect(text).toMatch(/2 phases → 2 streams · dependencies: explicit/);
    expect(text).toMatch(/s1 {2}Migration {2}\[migration, 1 file\]/);
    expect(text).toMatch(/s2 {2}API {2}\[api, 1 file\] {2}← s1/);
    expect(text).toMatch(/1\. s1\n {2}2\. s2/);
    expect(text).toMatch(/Critical path: s1 Migration → s2 API/);
    expect(text).toMatch(/Estimate \(opus\): .* wall time/);
    expect(text.trimEnd().endsWith('Ready: maestro run plan.md')).toBe(true);
  });

  it('says there is nothing to run, instead of empty sections, when the plan has no phases', async () => {
    const text = await summary('# Notes\n\nJust some text.\n');
    expect(text).toMatch(/warning\[no-phases\]: plan\.md:1:/);
    expect(text).toMatch(/Nothing to run: the plan has no phases/);
    expect(text).not.toMatch(/Waves|Critical path|Ready:/);
  });
});
