/**
 * Reads a plan from disk and analyses it against its repository: the one place the CLI turns
 * a path into an `Analysis` (used by `analyze` and `run`).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { analyzePlan } from '../analyze/analyze.js';
import { loadBuiltinPrices } from '../analyze/prices.js';
import { findRepoRoot, listRepoFiles, refusedOnDisk } from '../analyze/repo-files.js';
import { loadRoles } from '../analyze/roles-loader.js';
import type { Analysis } from '../analyze/types.js';
import { parsePlan } from '../plan/parse.js';
import type { PlanSettingsInput } from '../plan/settings.js';
import { CliError } from './errors.js';

export interface LoadAnalysisOptions {
  /** `--repo`: the repository the plan's paths are relative to; default: the git repo around the plan. */
  readonly repo?: string | undefined;
  readonly maxParallel?: number | undefined;
  readonly split?: boolean | undefined;
  readonly model?: string | undefined;
  /** Model choices from the config file and the backend (see `AnalyzeOptions`). */
  readonly roleModels?: Readonly<Record<string, string>> | undefined;
  readonly projectModel?: string | undefined;
  readonly defaultModel?: string | undefined;
  readonly acceptsModel?: ((model: string) => boolean) | undefined;
  /** Settings merged over the plan's own (an assisted reading). */
  readonly planSettings?: PlanSettingsInput | undefined;
}

/** Reads the plan file, or throws a usage error that says what to do. */
async function readPlan(planPath: string): Promise<string> {
  let info;
  try {
    info = await stat(planPath);
  } catch {
    throw new CliError(
      `cannot read plan "${planPath}": no such file. Give the path to a Markdown plan, or run "maestro init" to write an example.`,
    );
  }
  if (info.isDirectory())
    throw new CliError(`"${planPath}" is a directory; give the path to a Markdown plan file`);
  try {
    return await readFile(planPath, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read plan "${planPath}": ${(error as Error).message}`);
  }
}

/** The repository to analyse against: `--repo` (must be a git work tree), else the repo around the plan, else none. */
async function resolveRepo(planPath: string, repoFlag: string | undefined): Promise<string | null> {
  if (repoFlag === undefined) return findRepoRoot(path.dirname(path.resolve(planPath)));
  const dir = path.resolve(repoFlag);
  const root = await findRepoRoot(dir).catch(() => null);
  if (root === null)
    throw new CliError(
      `--repo ${repoFlag}: not a git repository (run "git init" there, or point --repo at one)`,
    );
  return root;
}

/** Parses and analyses a plan file; plan problems are diagnostics in the result, never exceptions. */
export async function loadAnalysis(planPath: string, options: LoadAnalysisOptions = {}): Promise<Analysis> {
  const text = await readPlan(planPath);
  const repo = await resolveRepo(planPath, options.repo);
  const [repoFiles, roles, prices] = await Promise.all([
    repo === null ? Promise.resolve(null) : listRepoFiles(repo),
    loadRoles(repo),
    loadBuiltinPrices(),
  ]);
  const parsed = parsePlan(
    text,
    planPath,
    options.planSettings === undefined ? {} : { settings: options.planSettings },
  );
  const refusedPaths =
    repo === null
      ? undefined
      : await refusedOnDisk(
          repo,
          parsed.plan.phases.flatMap((p) => p.files.map((f) => f.path)),
        );
  const analysis = analyzePlan(parsed, {
    repo,
    repoFiles,
    ...(refusedPaths === undefined ? {} : { refusedPaths }),
    roles: roles.roles,
    prices,
    ...(options.maxParallel === undefined ? {} : { maxParallel: options.maxParallel }),
    ...(options.split === undefined ? {} : { split: options.split }),
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.roleModels === undefined ? {} : { roleModels: options.roleModels }),
    ...(options.projectModel === undefined ? {} : { projectModel: options.projectModel }),
    ...(options.defaultModel === undefined ? {} : { defaultModel: options.defaultModel }),
    ...(options.acceptsModel === undefined ? {} : { acceptsModel: options.acceptsModel }),
  });
  return roles.diagnostics.length === 0
    ? analysis
    : { ...analysis, diagnostics: [...roles.diagnostics, ...analysis.diagnostics] };
}

/** The analysis's error diagnostics. */
export function planErrors(analysis: Analysis) {
  return analysis.diagnostics.filter((d) => d.severity === 'error');
}
