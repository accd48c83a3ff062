/**
 * Recycled worktree slots with real git worktrees and a real setup command: a slot keeps its ignored
 * dependency directory and loses untracked files, setup runs again only when a setup file changed,
 * a branch moves between slots, and a broken slot is checked out anew (and set up again).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SetupSpec } from '../../src/run/setup-detect.js';
import { ensureSetup } from '../../src/run/setup.js';
import { WorktreeSlots } from '../../src/run/slots.js';
import { gitSync, initRepo, makeTempDir, useGitIdentity, writeTree } from '../helpers/repo.js';

beforeAll(() => {
  useGitIdentity();
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

// Counts its runs in a file outside the worktree; installs into an ignored directory.
function spec(counter: string): SetupSpec {
  return {
    commands: [`mkdir -p deps && echo "$MAESTRO_STREAM_ID" > deps/installed && echo run >> '${counter}'`],
    source: 'flag',
    detectedFrom: [],
    tools: [],
    teardown: [],
  };
}

function commit(repo: string, files: Record<string, string>): string {
  writeTree(repo, files);
  gitSync(repo, ['add', '--all']);
  gitSync(repo, ['commit', '--quiet', '-m', 'change']);
  return gitSync(repo, ['rev-parse', 'HEAD']);
}

describe('worktree slots', () => {
  it('recycles a slot: untracked files go, ignored dependencies stay, setup runs only when a setup file changed', async () => {
    const tmp = makeTempDir();
    cleanups.push(tmp.cleanup);
    const repo = path.join(tmp.dir, 'repo');
    initRepo(repo, { 'package.json': '{"v":1}\n', '.gitignore': 'deps/\n', 'a.txt': 'a\n' });
    const c1 = gitSync(repo, ['rev-parse', 'HEAD']);
    const c2 = commit(repo, { 'a.txt': 'a2\n' });
    const c3 = commit(repo, { 'package.json': '{"v":2}\n' });
    const counter = path.join(tmp.dir, 'setup-runs');
    const root = path.join(tmp.dir, 'worktrees');
    const slots = new WorktreeSlots();
    const setup = (dir: string, id: string) =>
      ensureSetup(spec(counter), {
        root: repo,
        worktree: dir,
        streamId: id,
        port: 20_000,
        logFile: path.join(tmp.dir, `${id}.log`),
        timeoutMs: 30_000,
        included: [],
      });
    const runs = () => readFileSync(counter, 'utf8').trim().split('\n').length;

    const first = await slots.acquire(root);
    await slots.prepare(repo, first, 'b1', c1, 0);
    expect((await setup(first.dir, 'one')).ran).toBe(true);
    writeFileSync(path.join(first.dir, 'junk.txt'), 'left by an agent\n');
    writeFileSync(path.join(first.dir, 'a.txt'), 'edited, not committed\n');
    // Released in the background: the next acquire takes the slot being released (rather than
    // checking out a new one) once its release is done.
    slots.release(root, first);

    // The same slot for the next stream, at a commit with the same setup files: no setup.
    const second = await slots.acquire(root);
    // The release detached it (b1 is held by no worktree) and removed what the agent left untracked.
    expect(gitSync(second.dir, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('HEAD');
    expect(existsSync(path.join(second.dir, 'junk.txt'))).toBe(false);
    expect(second.dir).toBe(first.dir);
    await slots.prepare(repo, second, 'b2', c2, 0);
    expect(gitSync(second.dir, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('b2');
    expect(readFileSync(path.join(second.dir, 'a.txt'), 'utf8')).toBe('a2\n');
    expect(existsSync(path.join(second.dir, 'junk.txt'))).toBe(false);
    expect(readFileSync(path.join(second.dir, 'deps', 'installed'), 'utf8')).toBe('one\n');
    expect((await setup(second.dir, 'two')).ran).toBe(false);
    expect(runs()).toBe(1);

    // b1 continues in another slot while this one is busy: the branch is not held by an idle slot.
    const other = await slots.acquire(root);
    expect(other.dir).not.toBe(second.dir);
    await slots.prepare(repo, other, 'b1', null, 0);
    expect(gitSync(other.dir, ['rev-parse', 'HEAD'])).toBe(c1);
    slots.release(root, other);
    slots.release(root, second);

    // A changed manifest: setup runs again.
    const third = await slots.acquire(root);
    await slots.prepare(repo, third, 'b3', c3, 0);
    expect((await setup(third.dir, 'three')).ran).toBe(true);
    expect(runs()).toBe(2);
    slots.release(root, third);
    await slots.settle();

    // A slot whose .git an agent removed is checked out again, and set up again.
    rmSync(path.join(third.dir, '.git'));
    const fourth = await slots.acquire(root);
    await slots.prepare(repo, fourth, 'b4', c3, 0);
    expect(gitSync(fourth.dir, ['rev-parse', 'HEAD'])).toBe(c3);
    expect((await setup(fourth.dir, 'four')).ran).toBe(true);
    expect(runs()).toBe(3);
    slots.release(root, fourth);
    await slots.settle();
    expect(gitSync(fourth.dir, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('HEAD');

    // A new process (a resumed run) finds the slots on disk and prefers one whose setup is current.
    const again = new WorktreeSlots();
    const found = await again.acquire(root, (s) => Promise.resolve(s.dir === fourth.dir));
    expect(found.dir).toBe(fourth.dir);
  });
});
