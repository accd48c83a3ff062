/**
 * A fingerprint of the user's checkout: HEAD, the index and every changed or untracked (non-ignored)
 * file's bytes. Taken before a run and compared after each stream and at the end, so an agent that
 * writes into the user's checkout by path (`echo x > /path/to/repo/evil.txt`) is caught. Read-only:
 * it runs `git status` / `git diff --cached --raw` and reads files; it writes nothing.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { git } from './git.js';

/** Path (or `:HEAD`) → fingerprint. */
export type CheckoutSnapshot = ReadonlyMap<string, string>;

async function fileHash(file: string): Promise<string> {
  try {
    return createHash('sha1')
      .update(await readFile(file))
      .digest('hex');
  } catch {
    return 'unreadable'; // gone, or a directory (an untracked nested repository)
  }
}

/** Takes the snapshot of the checkout at `repo`. */
export async function snapshotCheckout(repo: string): Promise<CheckoutSnapshot> {
  const [status, cached, head] = await Promise.all([
    git(repo, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=no', '--no-renames']),
    git(repo, ['diff', '--cached', '--raw', '-z', '--no-renames', '--abbrev=40']),
    git(repo, ['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => ''),
  ]);
  const snapshot = new Map<string, string>();
  const branch = await git(repo, ['symbolic-ref', '-q', 'HEAD']).catch(() => '(detached)');
  snapshot.set(':HEAD', `${head.trim()} ${branch.trim()}`);
  // `--raw -z`: ":old new oldsha newsha status\0path\0" pairs; the index side is `newsha`.
  const fields = cached.split('\0');
  const indexBlob = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i] ?? '';
    const file = fields[i + 1] ?? '';
    indexBlob.set(file, meta.split(' ')[3] ?? '');
  }
  const entries = status.split('\0').filter((e) => e.length > 3);
  await Promise.all(
    entries.map(async (entry) => {
      const xy = entry.slice(0, 2);
      const file = entry.slice(3);
      snapshot.set(file, `${xy} ${indexBlob.get(file) ?? ''} ${await fileHash(path.join(repo, file))}`);
    }),
  );
  return snapshot;
}

/** Paths whose state differs between two snapshots (`HEAD` when the checkout's HEAD moved), sorted. */
export function checkoutChanges(before: CheckoutSnapshot, after: CheckoutSnapshot): string[] {
  const changed = new Set<string>();
  for (const [key, value] of after) if (before.get(key) !== value) changed.add(key);
  for (const key of before.keys()) if (!after.has(key)) changed.add(key);
  return [...changed].map((k) => (k === ':HEAD' ? 'HEAD' : k)).sort();
}
