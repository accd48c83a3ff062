/**
 * A fingerprint of the user's checkout: HEAD, the index and every changed or untracked (non-ignored)
 * file's bytes. Taken before a run and compared after each stream and at the end, so an agent that
 * writes into the user's checkout by path (`echo x > /path/to/repo/evil.txt`) is caught. Read-only:
 * it runs `git status` and reads files; it writes nothing.
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

/**
 * Takes the snapshot of the checkout at `repo`: one `git status --porcelain=v2` (HEAD, branch, and per
 * changed path its status and index blob), then the bytes of each changed file. `--no-optional-locks`:
 * it never writes the user's index (a refresh would), so it cannot collide with their own git commands.
 */
export async function snapshotCheckout(repo: string): Promise<CheckoutSnapshot> {
  const out = await git(repo, [
    '--no-optional-locks',
    'status',
    '--porcelain=v2',
    '--branch',
    '-z',
    '--untracked-files=all',
    '--ignored=no',
    '--no-renames',
  ]);
  const snapshot = new Map<string, string>();
  let head = '';
  let branch = '(detached)';
  const files: { file: string; state: string }[] = [];
  const records = out.split('\0');
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? '';
    if (record.startsWith('# branch.oid ')) head = record.slice('# branch.oid '.length);
    else if (record.startsWith('# branch.head ')) branch = record.slice('# branch.head '.length);
    else if (record.startsWith('? ')) files.push({ file: record.slice(2), state: '?? -' });
    else {
      // `1 XY sub mH mI mW hH hI path`, `2 … Xscore path` + the original path as the next record,
      // `u XY sub m1 m2 m3 mW h1 h2 h3 path`: the index side is hI (h3 for an unmerged path).
      const fieldsBefore = { '1': 8, '2': 9, u: 10 }[record[0] ?? ''];
      if (fieldsBefore === undefined || record[1] !== ' ') continue;
      const parts = record.split(' ');
      const file = parts.slice(fieldsBefore).join(' ');
      const indexBlob = parts[record[0] === 'u' ? 9 : 7] ?? '';
      files.push({ file, state: `${parts[1] ?? ''} ${indexBlob}` });
      if (record[0] === '2') i += 1;
    }
  }
  snapshot.set(':HEAD', `${head} ${branch}`);
  await Promise.all(
    files.map(async ({ file, state }) => {
      snapshot.set(file, `${state} ${await fileHash(path.join(repo, file))}`);
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
