/**
 * Vitest setup file: every test file gets its own user cache directory (`XDG_CACHE_HOME`), so run
 * worktrees (which live there, outside the repository) never land in the real `~/.cache`, and are
 * removed with the directory when the file's tests end. Child processes (the CLI) inherit it.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'maestro-cache-')));
process.env.XDG_CACHE_HOME = dir;

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
