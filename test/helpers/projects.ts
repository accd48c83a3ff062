/**
 * Real projects for the worktree-environment tests: an npm package with a registry dependency, a
 * Python package with a venv, installed by the test with the real npm and pip. One npm cache and one
 * pip cache are shared by every test (and kept between runs, like a developer's), so installs after
 * the first come from the cache (`--prefer-offline`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gitSync, initRepo } from './repo.js';

/** The npm and pip caches every test shares. */
export const packageCacheEnv: Readonly<Record<string, string>> = {
  npm_config_cache: path.join(tmpdir(), 'maestro-test-npm-cache'),
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  PIP_CACHE_DIR: path.join(tmpdir(), 'maestro-test-pip-cache'),
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  // One retry, not pip's five with backoff: where only a mirror answers (an extra index), each
  // install otherwise waits ~40 s on the unreachable default index before using the mirror.
  PIP_RETRIES: '1',
};

function run(cwd: string, command: string, args: readonly string[]): string {
  return execFileSync(command, [...args], {
    cwd,
    env: { ...process.env, ...packageCacheEnv },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * An npm project in `dir`, committed: `is-number` from the registry, `npm test` requiring it and
 * every `src/*.js`, `.env` ignored and listed in `.worktreeinclude`. `npm install` ran in the user's
 * checkout, so it has its own (ignored) `node_modules`.
 */
export function makeNpmProject(dir: string): void {
  initRepo(dir, {
    'package.json': `${JSON.stringify(
      {
        name: 'wt-app',
        version: '1.0.0',
        private: true,
        scripts: { test: 'node test.js' },
        dependencies: { 'is-number': '7.0.0' },
      },
      null,
      2,
    )}\n`,
    'test.js': [
      "const fs = require('node:fs');",
      "const isNumber = require('is-number');",
      "if (!isNumber(5)) throw new Error('is-number is broken');",
      "for (const f of fs.existsSync('src') ? fs.readdirSync('src') : []) require('./src/' + f);",
      "console.log('tests passed');",
      '',
    ].join('\n'),
    '.gitignore': 'node_modules/\n.env\n',
    '.worktreeinclude': '.env\n',
  });
  run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline']);
  gitSync(dir, ['add', 'package-lock.json']);
  gitSync(dir, ['commit', '--quiet', '-m', 'lockfile']);
  execFileSync('sh', ['-c', 'printf "API_KEY=from-the-user\\n" > .env'], { cwd: dir });
}

/**
 * A Python project in `dir`, committed: `requirements.txt` with pytest, a module and its test, and a
 * `.venv` made by the test with pytest installed (never activated).
 */
export function makePythonProject(dir: string): void {
  initRepo(dir, {
    'requirements.txt': 'pytest\n',
    'calc.py': 'def add(a, b):\n    return a + b\n',
    'test_calc.py': 'from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n',
    '.gitignore': '.venv/\n__pycache__/\n.pytest_cache/\n',
  });
  run(dir, 'python3', ['-m', 'venv', '.venv']);
  run(dir, path.join(dir, '.venv', 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '-r',
    'requirements.txt',
  ]);
}

/** A digest of every file under `dir` (paths, bytes, link targets), to prove a tree is untouched. */
export function treeDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    const info = lstatSync(abs);
    if (info.isSymbolicLink()) hash.update(`L ${rel} ${readlinkSync(abs)}\n`);
    else if (info.isDirectory()) for (const name of readdirSync(abs).sort()) walk(path.join(rel, name));
    else hash.update(`F ${rel} ${String(info.mode)}\n`).update(readFileSync(abs));
  };
  walk('');
  return hash.digest('hex');
}

/** The journal of the latest run in `repo`. */
export function latestJournal(repo: string): { type: string; [key: string]: unknown }[] {
  const runs = path.join(repo, '.maestro', 'runs');
  // Not the last id by name: two runs started within one second sort by their random suffix.
  const journals = readdirSync(runs).map((id) => path.join(runs, id, 'events.jsonl'));
  const latest = journals.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs).at(-1) ?? '';
  return readFileSync(latest, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string });
}
