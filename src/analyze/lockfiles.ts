/**
 * Lockfiles go with their manifests: a stream that owns `package.json` owns the lockfile its package
 * manager rewrites (`npm install --save x` changes both), and so on for every ecosystem. Pure.
 */
import path from 'node:path';

/** A file a stream owns because it owns another one. */
export interface ImpliedFile {
  readonly path: string;
  /** The owned file that implies it (e.g. `package.json`). */
  readonly because: string;
}

/** Manifest file name → the lockfiles its tools write next to it. */
const lockfilesOf: Readonly<Record<string, readonly string[]>> = {
  'package.json': [
    'package-lock.json',
    'npm-shrinkwrap.json',
    'pnpm-lock.yaml',
    'yarn.lock',
    'bun.lock',
    'bun.lockb',
  ],
  'pyproject.toml': ['uv.lock', 'poetry.lock', 'pdm.lock'],
  Pipfile: ['Pipfile.lock'],
  'Cargo.toml': ['Cargo.lock'],
  'go.mod': ['go.sum'],
  Gemfile: ['Gemfile.lock'],
  'composer.json': ['composer.lock'],
};

/**
 * The lockfiles implied by `owned` paths. Of a manifest's candidates, those present in `repoFiles`
 * count; when none is present (or there is no repository), all of them do, since any of its tools
 * may create one.
 */
export function impliedLockfiles(
  owned: readonly string[],
  repoFiles: readonly string[] | null,
): ImpliedFile[] {
  const ownedSet = new Set(owned);
  const present = repoFiles === null ? null : new Set(repoFiles);
  const out: ImpliedFile[] = [];
  for (const manifest of owned) {
    const candidates = lockfilesOf[path.posix.basename(manifest)];
    if (candidates === undefined) continue;
    const dir = path.posix.dirname(manifest);
    const paths = candidates.map((c) => (dir === '.' ? c : `${dir}/${c}`));
    const existing = present === null ? [] : paths.filter((p) => present.has(p));
    for (const p of existing.length > 0 ? existing : paths) {
      if (ownedSet.has(p) || out.some((f) => f.path === p)) continue;
      out.push({ path: p, because: manifest });
    }
  }
  return out;
}
