/**
 * Locates `../shared/plans` (the hand-labelled corpus, used in place, never copied).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Finds shared/plans: $MAESTRO_SHARED_DIR, else walking up from the repo, else /work/shared. */
export function sharedPlansDir(): string | null {
  const env = process.env.MAESTRO_SHARED_DIR;
  const candidates: string[] = [];
  if (env) candidates.push(join(env, 'plans'), env);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    candidates.push(join(dir, 'shared', 'plans'), join(dir, '..', 'shared', 'plans'));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  candidates.push('/work/shared/plans');
  return candidates.map((c) => resolve(c)).find((c) => existsSync(join(c, 'GROUND_TRUTH.json'))) ?? null;
}
