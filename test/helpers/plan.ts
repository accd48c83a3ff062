/** Writes Markdown plans in the seed's format (`## Phase N: Title`, `Depends on:`, `Files:`, `Validation:`). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { initRepo, makeTempDir } from './repo.js';

export interface PhaseSpec {
  readonly title: string;
  /** 1-based phase numbers this phase depends on. */
  readonly deps?: readonly number[];
  readonly files: readonly string[];
  readonly validation?: readonly string[];
}

/** A plan with one `## Phase N` section per spec. */
export function planMarkdown(
  title: string,
  phases: readonly PhaseSpec[],
  validation: readonly string[] = [],
): string {
  const out = [`# ${title}`, '', 'A plan written by a test.', ''];
  phases.forEach((p, i) => {
    out.push(`## Phase ${String(i + 1)}: ${p.title}`, '');
    // Always explicit: a plan without dependency lines is read as sequential.
    const deps = p.deps ?? [];
    out.push(
      `Depends on: ${deps.length === 0 ? 'none' : deps.map((d) => `Phase ${String(d)}`).join(', ')}`,
      '',
    );
    out.push('Files:');
    for (const f of p.files) out.push(`- \`${f}\` (create)`);
    out.push('', `Implement ${p.title.toLowerCase()}.`, '');
    if (p.validation !== undefined && p.validation.length > 0) {
      out.push('Validation:', '```bash', ...p.validation, '```', '');
    }
  });
  if (validation.length > 0) out.push('## Validation', '', '```bash', ...validation, '```', '');
  return out.join('\n');
}

/** The seed's shape: migration → models → validation/services → pipeline/API, tests in parallel. */
export const seedLikePhases: readonly PhaseSpec[] = [
  { title: 'Database migration', files: ['migrations/0007_create_jobs.py'] },
  { title: 'Models and schemas', deps: [1], files: ['app/models/job.py', 'app/schemas/job.py'] },
  { title: 'Validation and security', deps: [2], files: ['app/validation/uploads.py'] },
  { title: 'Job service', deps: [2], files: ['app/services/jobs.py'] },
  { title: 'Processing pipeline', deps: [4], files: ['app/pipeline/worker.py'] },
  { title: 'REST API', deps: [3, 4], files: ['app/api/jobs.py'] },
  { title: 'Tests', deps: [2], files: ['tests/test_jobs.py'] },
];

/** A temp dir holding a git repository and a plan beside it (outside the repository). */
export interface RepoWithPlan {
  readonly dir: string;
  /** `dir/repo`: one commit of the given files. */
  readonly repo: string;
  /** `dir/plan.md`. */
  readonly plan: string;
}

/**
 * Makes a temp dir (named from `prefix`; its removal pushed to `cleanups`) with a repository of
 * `files` at `repo/` and `planText` at `plan.md`.
 */
export function repoWithPlan(
  cleanups: (() => void)[],
  prefix: string,
  planText: string,
  files?: Readonly<Record<string, string>>,
): RepoWithPlan {
  const tmp = makeTempDir(prefix);
  cleanups.push(tmp.cleanup);
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo, files);
  const plan = path.join(tmp.dir, 'plan.md');
  writeFileSync(plan, planText);
  return { dir: tmp.dir, repo, plan };
}
