/**
 * The report of a real run: the run engine with stand-in agents on a real git repository, then the
 * report read back from the run directory it left (journal, analysis, completion reports).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { startRun } from '../../src/run/engine.js';
import { EventBus } from '../../src/run/events.js';
import { LocalExecutor } from '../../src/run/executor.js';
import { loadRunReport, writeMarkdownReport } from '../../src/report/load.js';
import { renderHtml } from '../../src/report/html.js';
import { makeAnalysis } from '../helpers/analysis.js';
import { installStandInAgent } from '../helpers/agent.js';
import { initRepo, inProcessGitTests, makeTempDir } from '../helpers/repo.js';
import { testRunOptions } from '../helpers/run-options.js';

const cleanups = inProcessGitTests();

describe('report of a real run', () => {
  it('covers merged, out-of-scope and skipped streams with their reports and timeline', async () => {
    const tmp = makeTempDir();
    cleanups.push(tmp.cleanup);
    const repo = path.join(tmp.dir, 'repo');
    initRepo(repo);
    const agent = installStandInAgent(tmp.dir, {
      s3: { write: { 'tests/test_models.py': '# s3\n', 'app/api.py': '# not mine\n' } },
    });
    const analysis = makeAnalysis([
      { id: 's1', files: ['db/migration.sql'], role: 'migration' },
      { id: 's2', deps: ['s1'], files: ['app/models.py'], role: 'models' },
      { id: 's3', deps: ['s1'], files: ['tests/test_models.py'], role: 'testing' },
      { id: 's4', deps: ['s2', 's3'], files: ['app/api.py'], role: 'api' },
    ]);
    const hooks = { executor: new LocalExecutor(commandBackend(agent.command), 500), bus: new EventBus() };
    const result = await startRun(
      repo,
      analysis,
      testRunOptions({ maxParallel: 4, validate: ['true'], retries: 0 }),
      hooks,
      'r1',
    );

    const report = await loadRunReport(result.paths.dir);
    if (report === null) throw new Error('no report');
    const status = Object.fromEntries(report.streams.map((s) => [s.id, s.status]));
    expect(status).toEqual({ s1: 'merged', s2: 'merged', s3: 'failed', s4: 'skipped' });
    const s3 = report.streams.find((s) => s.id === 's3');
    expect(s3?.error?.code).toBe('out-of-scope');
    expect(s3?.segments.at(-1)?.kind).toBe('failed');
    const s1 = report.streams.find((s) => s.id === 's1');
    expect(s1?.completionReport).toBe('streams/s1/MIGRATION_COMPLETE.md');
    expect(s1?.segments.map((s) => s.kind)).toEqual(['waiting', 'running', 'validating', 'merged']);
    expect(s1?.validations.every((v) => v.passed)).toBe(true);
    expect(s1?.timing.startedAt).not.toBeNull();
    expect(report.streams.find((s) => s.id === 's4')?.segments.at(-1)?.kind).toBe('skipped');
    expect(renderHtml(report).match(/<g class="bar /g)).toHaveLength(4);

    const md = await readFile(await writeMarkdownReport(result.paths.dir), 'utf8');
    expect(md).toContain('# Maestro run r1');
    expect(md).toContain('[MIGRATION_COMPLETE.md](streams/s1/MIGRATION_COMPLETE.md)');
  });
});
