/** `maestro report` on a run directory laid out like the engine's, and `writeMarkdownReport`. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMarkdownReport } from '../../src/report/load.js';
import type { RunReport } from '../../src/report/types.js';
import { runCli } from '../helpers/cli.js';
import { analysis, completionReports, events } from './fixture.js';

let repo: string;
let runDir: string;

beforeAll(async () => {
  repo = await mkdtemp(path.join(tmpdir(), 'maestro-report-cli-'));
  // An older run first, so "latest" has to pick the right one.
  const older = path.join(repo, '.maestro', 'runs', '20261128-090000-aaaa');
  await mkdir(older, { recursive: true });
  await writeFile(path.join(older, 'events.jsonl'), '');
  runDir = path.join(repo, '.maestro', 'runs', '20261128-100000-beef');
  await mkdir(runDir, { recursive: true });
  // A torn last line, as a crash mid-append leaves it.
  await writeFile(
    path.join(runDir, 'events.jsonl'),
    `${events.map((e) => JSON.stringify(e)).join('\n')}\n{"type":"no`,
  );
  await writeFile(path.join(runDir, 'analysis.json'), JSON.stringify(analysis));
  for (const [id, report] of completionReports) {
    await mkdir(path.join(runDir, 'streams', id), { recursive: true });
    await writeFile(path.join(runDir, report.path), report.text);
  }
  await mkdir(path.join(repo, 'src'), { recursive: true });
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('maestro report', () => {
  it('prints the latest run as Markdown from a subdirectory, linking completion reports', async () => {
    const result = await runCli(['report'], path.join(repo, 'src'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('# Maestro run run-1: Shop backend');
    expect(result.stdout).toContain(
      '[MIGRATION_COMPLETE.md](../.maestro/runs/20261128-100000-beef/streams/s1/MIGRATION_COMPLETE.md)',
    );
  });

  it('prints JSON for a run given by id', async () => {
    const result = await runCli(
      ['report', '20261128-100000-beef', '--format', 'json', '--repo', repo],
      tmpdir(),
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.streams).toHaveLength(7);
    expect(report.streams[0]?.completionReport).toBe('streams/s1/MIGRATION_COMPLETE.md');
    expect(report.totals.criticalFixes).toEqual({ total: 4, addressed: 2 });
  });

  it('writes a self-contained HTML file with --out', async () => {
    const out = path.join(repo, 'out', 'report.html');
    const result = await runCli(['report', runDir, '--format', 'html', '--out', out], repo);
    expect(result.code, result.stderr).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html.match(/<g class="bar /g)).toHaveLength(7);
    expect(html).toContain('href="../.maestro/runs/20261128-100000-beef/streams/s1/MIGRATION_COMPLETE.md"');
  });

  it('explains what to do when there is no such run', async () => {
    const missing = await runCli(['report', 'nope', '--repo', repo], repo);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /maestro: no run "nope" in .*known runs: 20261128-090000-aaaa, 20261128-100000-beef/,
    );
    const empty = await mkdtemp(path.join(tmpdir(), 'maestro-no-runs-'));
    try {
      const none = await runCli(['report'], empty);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no runs in .*start one with "maestro run PLAN"/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('writeMarkdownReport', () => {
  it('writes REPORT.md into the run directory', async () => {
    const file = await writeMarkdownReport(runDir);
    expect(file).toBe(path.join(runDir, 'REPORT.md'));
    const text = await readFile(file, 'utf8');
    expect(text).toContain('- Status: **failed** (5 merged · 1 failed · 1 skipped)');
    expect(text).toContain('[MIGRATION_COMPLETE.md](streams/s1/MIGRATION_COMPLETE.md)');
  });
});
