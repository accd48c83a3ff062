import { describe, expect, it } from 'vitest';
import { impliedLockfiles } from '../../src/analyze/lockfiles.js';

describe('lockfiles go with their manifests', () => {
  it('pairs each manifest with the lockfiles of its tools, preferring those the repository has', () => {
    const repoFiles = [
      'package.json',
      'package-lock.json',
      'web/package.json',
      'web/pnpm-lock.yaml',
      'go.mod',
    ];
    expect(impliedLockfiles(['package.json', 'web/package.json', 'go.mod', 'Cargo.toml'], repoFiles)).toEqual(
      [
        { path: 'package-lock.json', because: 'package.json' },
        { path: 'web/pnpm-lock.yaml', because: 'web/package.json' },
        { path: 'go.sum', because: 'go.mod' },
        { path: 'Cargo.lock', because: 'Cargo.toml' },
      ],
    );
    expect(impliedLockfiles(['pyproject.toml'], []).map((f) => f.path)).toEqual([
      'uv.lock',
      'poetry.lock',
      'pdm.lock',
    ]);
    expect(impliedLockfiles(['Gemfile', 'composer.json'], null).map((f) => f.path)).toEqual([
      'Gemfile.lock',
      'composer.lock',
    ]);
    // Already owned: not implied again.
    expect(impliedLockfiles(['go.mod', 'go.sum'], null)).toEqual([]);
  });
});
