/**
 * Finding 8 (unit): taking over a stale run lock is atomic. Several processes race for a lock whose
 * owner was killed; exactly one wins and every loser names the winner (never "unknown, pid 0").
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockPath, readLockOwner } from '../../src/run/lock.js';
import { makeTempDir } from '../helpers/repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const lockModule = new URL('../../dist/run/lock.js', import.meta.url).href;

/** A contender: takes the lock, prints the result, holds it until `release` exists. */
const contender = `
const { acquireLock } = await import(process.argv[1]);
const [repo, runId, go, release] = process.argv.slice(2);
const { existsSync } = await import('node:fs');
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 5));
const lock = await acquireLock(repo, runId);
console.log(JSON.stringify(lock.ok ? { won: process.pid } : { lost: lock.owner }));
if (lock.ok) { while (!existsSync(release)) await new Promise((r) => setTimeout(r, 5)); lock.release(); }
`;

/** A pid that existed and is gone: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid ?? 999999;
}

describe('run lock', () => {
  it('one of eight concurrent takeovers of a stale lock wins; the others name it', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const tmp = makeTempDir('maestro-lock-');
      cleanups.push(tmp.cleanup);
      const repo = tmp.dir;
      // A stale lock: its owner is dead.
      mkdirSync(lockPath(repo), { recursive: true });
      const stale = await deadPid();
      writeFileSync(path.join(lockPath(repo), '1'), JSON.stringify({ pid: stale, runId: 'old' }));
      const go = path.join(repo, 'go');
      const release = path.join(repo, 'release');
      const children = Array.from({ length: 8 }, (_, i) => {
        const child = spawn(
          process.execPath,
          ['--input-type=module', '-e', contender, lockModule, repo, `r${String(i)}`, go, release],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        const line = new Promise<string>((resolve) =>
          child.stdout.on('data', () => {
            if (out.includes('\n')) resolve(out.trim());
          }),
        );
        const exited = new Promise<void>((resolve) => {
          child.on('close', () => {
            resolve();
          });
        });
        return { line, exited };
      });
      writeFileSync(go, '');
      const results = (await Promise.all(children.map((c) => c.line))).map(
        (l) => JSON.parse(l) as { won?: number; lost?: { pid: number; runId: string } },
      );
      const winners = results.filter((r) => r.won !== undefined);
      expect(winners).toHaveLength(1);
      for (const r of results.filter((x) => x.lost !== undefined)) {
        expect(r.lost?.pid).toBe(winners[0]?.won);
        expect(r.lost?.runId).toMatch(/^r\d$/);
      }
      writeFileSync(release, '');
      await Promise.all(children.map((c) => c.exited));
      expect(readLockOwner(repo)).toBeNull();
    }
  });

  it('is released, then taken again; a live holder refuses a second taker in-process', async () => {
    const tmp = makeTempDir('maestro-lock-');
    cleanups.push(tmp.cleanup);
    const first = await acquireLock(tmp.dir, 'a');
    expect(first.ok).toBe(true);
    expect(readLockOwner(tmp.dir)).toMatchObject({ pid: process.pid, runId: 'a' });
    if (first.ok) first.release();
    expect(existsSync(path.join(lockPath(tmp.dir), '1'))).toBe(false);
    const second = await acquireLock(tmp.dir, 'b');
    expect(second.ok).toBe(true);
    if (second.ok) second.release();
  });
});
