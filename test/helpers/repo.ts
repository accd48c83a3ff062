/**
 * Temp git repositories for tests: real `git`, a fixed identity through the environment
 * (never global config), files from an inline tree.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll } from 'vitest';

/** Environment that makes git deterministic and independent of the machine's config. */
export const gitIdentityEnv: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: 'Maestro Test',
  GIT_AUTHOR_EMAIL: 'test@maestro.invalid',
  GIT_COMMITTER_NAME: 'Maestro Test',
  GIT_COMMITTER_EMAIL: 'test@maestro.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Puts the fixed identity into this process's environment (for engine tests that run git in-process). */
export function useGitIdentity(): void {
  Object.assign(process.env, gitIdentityEnv);
}

/**
 * For test files that run git in-process (the engine, the git wrapper): puts the fixed identity into
 * this process's environment before all tests, and returns the file's clean-ups, run after each test.
 */
export function inProcessGitTests(): (() => void)[] {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  beforeAll(() => {
    useGitIdentity();
  });
  return cleanups;
}

/** Runs git in `cwd` with the test identity; returns trimmed stdout. */
export function gitSync(cwd: string, args: readonly string[]): string {
  return execFileSync('git', [...args], {
    cwd,
    env: { ...process.env, ...gitIdentityEnv },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }).trim();
}

/** A temporary directory (realpath'd, so /proc cwd comparisons work); removed by `cleanup`. */
export function makeTempDir(prefix = 'maestro-test-'): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes an inline file tree under `root`. */
export function writeTree(root: string, files: Readonly<Record<string, string>>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** Creates a git repository at `dir` on branch `main` with one commit of `files`. */
export function initRepo(
  dir: string,
  files: Readonly<Record<string, string>> = { 'README.md': '# test\n' },
): void {
  mkdirSync(dir, { recursive: true });
  gitSync(dir, ['init', '--quiet', '--initial-branch=main']);
  writeTree(dir, files);
  gitSync(dir, ['add', '--all']);
  gitSync(dir, ['commit', '--quiet', '-m', 'initial']);
}

/** Leaves uncommitted changes in the user's checkout: a modified tracked file, a staged file and an untracked file. */
export function dirtyUserCheckout(dir: string): () => void {
  writeTree(dir, {
    'README.md': '# test\nuncommitted edit \u00e9\r\n',
    'staged.txt': 'staged\n',
    'untracked.bin': '\u0000\u0001binary',
  });
  gitSync(dir, ['add', 'staged.txt']);
  const snapshot = snapshotUserState(dir);
  return () => {
    const now = snapshotUserState(dir);
    if (now !== snapshot)
      throw new Error(`the user's checkout changed:\n--- before\n${snapshot}\n--- after\n${now}`);
  };
}

/** Status, diff (worktree and index) and file bytes of the user's checkout, for byte-for-byte comparison. */
export function snapshotUserState(dir: string): string {
  const status = gitSync(dir, ['status', '--porcelain=v1', '--untracked-files=all', '--ignored=no']);
  const diff = gitSync(dir, ['diff', '--binary']);
  const cached = gitSync(dir, ['diff', '--cached', '--binary']);
  const head = gitSync(dir, ['rev-parse', 'HEAD']);
  const branch = gitSync(dir, ['symbolic-ref', '--short', 'HEAD']);
  return JSON.stringify({ status, diff, cached, head, branch });
}

/**
 * Maestro's merge commits on `branch` (subjects `maestro: merge <id> (…)`), counted by stream id; one
 * whose id cannot be read counts as `?`. `firstParent`: only the branch's own history.
 */
export function mergeCounts(
  repo: string,
  branch: string,
  options: { readonly firstParent?: boolean } = {},
): Record<string, number> {
  const counts: Record<string, number> = {};
  const log = ['log', ...(options.firstParent === true ? ['--first-parent'] : []), '--merges', '--format=%s'];
  for (const subject of gitSync(repo, [...log, branch]).split('\n')) {
    if (!subject.startsWith('maestro: merge ')) continue;
    const id = /^maestro: merge (\S+) /.exec(subject)?.[1] ?? '?';
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}
