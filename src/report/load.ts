/**
 * Reads a run directory (`events.jsonl`, `analysis.json`, `streams/<id>/*_COMPLETE.md`) into a report,
 * and writes the Markdown report the engine leaves in every run directory.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Analysis } from '../analyze/types.js';
import { listRuns, readJournal, readJson, runPaths, runsDir, writeFileAtomic } from '../run/journal.js';
import type { RunEvent } from '../run/types.js';
import type { CompletionReport, ReportInput } from './build.js';
import { buildRunReport } from './build.js';
import { renderMarkdown } from './markdown.js';
import type { RunReport } from './types.js';

/** File name of the Markdown report inside a run directory. */
export const markdownReportName = 'REPORT.md';

/** Where a run's files are, or why there is none. */
export type RunDirLookup =
  { readonly ok: true; readonly dir: string } | { readonly ok: false; readonly message: string };

/** The nearest directory at or above `start` that holds `.maestro/runs`, else `start`. */
export function findRepoWithRuns(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(runsDir(dir))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

/** Resolves a run given as an id, a run directory path, or nothing (the latest run of `repo`). */
export async function resolveRunDir(repo: string, run: string | undefined): Promise<RunDirLookup> {
  if (run !== undefined) {
    const asPath = path.resolve(run);
    if (existsSync(path.join(asPath, 'events.jsonl'))) return { ok: true, dir: asPath };
    const byId = runPaths(repo, run).dir;
    if (existsSync(byId)) return { ok: true, dir: byId };
    const known = await listRuns(repo);
    const hint =
      known.length > 0 ? `known runs: ${known.slice(-5).join(', ')}` : 'this repository has no runs yet';
    return { ok: false, message: `no run "${run}" in ${runsDir(repo)} (${hint})` };
  }
  const runs = await listRuns(repo);
  const latest = runs.at(-1);
  if (latest === undefined) {
    return {
      ok: false,
      message: `no runs in ${runsDir(repo)}; start one with "maestro run PLAN", or pass --repo DIR`,
    };
  }
  return { ok: true, dir: runPaths(repo, latest).dir };
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** Finds one stream's completion report: the role's report name first, then any `*_COMPLETE.md`, then `report.md`. */
async function findCompletionReport(
  runDir: string,
  streamId: string,
  reportName: string | undefined,
): Promise<CompletionReport | undefined> {
  const rel = path.posix.join('streams', streamId);
  let names: string[];
  try {
    names = await readdir(path.join(runDir, rel));
  } catch {
    return undefined;
  }
  const candidates = [
    ...(reportName !== undefined && names.includes(reportName) ? [reportName] : []),
    ...names.filter((n) => n.endsWith('_COMPLETE.md')).sort(),
    ...(names.includes('report.md') ? ['report.md'] : []),
  ];
  for (const name of candidates) {
    const text = await readText(path.join(runDir, rel, name));
    if (text !== null) return { path: path.posix.join(rel, name), text };
  }
  return undefined;
}

/** Reads everything a report is built from; the analysis is optional (older or broken runs). */
export async function loadReportInput(runDir: string): Promise<ReportInput> {
  const events: RunEvent[] = await readJournal(path.join(runDir, 'events.jsonl'));
  // Runs from before the engine saved its analysis still get a report, keyed by stream id only.
  const analysis = await readJson(path.join(runDir, 'analysis.json')).then(
    (value) => value as Analysis,
    () => null,
  );
  const ids = new Set(analysis?.streams.map((s) => s.id) ?? []);
  for (const event of events) if (event.type === 'run-started') for (const id of event.streamIds) ids.add(id);
  const completionReports = new Map<string, CompletionReport>();
  for (const id of ids) {
    const stream = analysis?.streams.find((s) => s.id === id);
    const reportName = stream === undefined ? undefined : analysis?.roles[stream.role]?.reportName;
    const found = await findCompletionReport(runDir, id, reportName);
    if (found !== undefined) completionReports.set(id, found);
  }
  return { events, analysis, completionReports };
}

/** Builds the report of the run in `runDir`; null when the directory has no journal. */
export async function loadRunReport(runDir: string): Promise<RunReport | null> {
  const journal = path.join(runDir, 'events.jsonl');
  try {
    if (!(await stat(journal)).isFile()) return null;
  } catch {
    return null;
  }
  return buildRunReport(await loadReportInput(runDir));
}

/**
 * Writes `REPORT.md` into the run directory (atomically) and returns its path. The engine calls this at
 * the end of every run; pass what it holds in memory to skip re-reading the journal and analysis.
 */
export async function writeMarkdownReport(
  runDir: string,
  known: { readonly events?: readonly RunEvent[]; readonly analysis?: Analysis } = {},
): Promise<string> {
  const input = await loadReportInput(runDir);
  const report = buildRunReport({
    events: known.events ?? input.events,
    analysis: known.analysis ?? input.analysis,
    ...(input.completionReports === undefined ? {} : { completionReports: input.completionReports }),
  });
  const file = path.join(runDir, markdownReportName);
  await writeFileAtomic(file, renderMarkdown(report));
  return file;
}
