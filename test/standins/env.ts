/** Isolated environments and temp git repos for running the real agent CLIs against stand-ins. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the real agent CLIs are installed (test/agents-cli, by the test set-up; see scripts/install-agent-clis.mjs). */
export const binDir = fileURLToPath(new URL('../agents-cli/node_modules/.bin/', import.meta.url));

/** A sandbox: a temp git repo (the worktree), a run dir, and a private HOME/TMPDIR. */
export interface Sandbox {
  readonly root: string;
  readonly worktree: string;
  readonly runDir: string;
  readonly home: string;
  readonly tmp: string;
  readonly cleanup: () => Promise<void>;
}

/** Creates a sandbox with `files` committed in the worktree (fixed git identity). */
export async function makeSandbox(
  files: Record<string, string> = { 'README.md': '# test repo\n' },
): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'maestro-standin-'));
  const worktree = join(root, 'repo');
  const runDir = join(root, 'run');
  const home = join(root, 'home');
  const tmp = join(root, 'tmp');
  for (const dir of [worktree, runDir, home, tmp]) await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(worktree, path)), { recursive: true });
    await writeFile(join(worktree, path), content);
  }
  const git = (...args: string[]): void => {
    execFileSync('git', args, {
      cwd: worktree,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
      stdio: 'ignore',
    });
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'init');
  return { root, worktree, runDir, home, tmp, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Environment that keeps a CLI away from the user's real config and the network. */
export function isolatedEnv(sandbox: Sandbox): Record<string, string> {
  return {
    HOME: sandbox.home,
    XDG_CONFIG_HOME: join(sandbox.home, '.config'),
    XDG_CACHE_HOME: join(sandbox.home, '.cache'),
    XDG_DATA_HOME: join(sandbox.home, '.local', 'share'),
    TMPDIR: sandbox.tmp,
    NO_PROXY: '127.0.0.1,localhost',
    HTTPS_PROXY: '',
    HTTP_PROXY: '',
    https_proxy: '',
    http_proxy: '',
  };
}

/** Environment that points the real Claude Code CLI at the Anthropic stand-in at `url`, with a dummy key. */
export function claudeStandinEnv(url: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: 'dummy',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  };
}

/**
 * Writes `HOME/.gemini/settings.json` selecting API-key auth (the Gemini CLI asks how to log in
 * otherwise), plus `extra` top-level settings.
 */
export async function writeGeminiSettings(home: string, extra: Record<string, unknown> = {}): Promise<void> {
  await mkdir(join(home, '.gemini'), { recursive: true });
  await writeFile(
    join(home, '.gemini', 'settings.json'),
    JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } }, ...extra }),
  );
}
