/** Ownership check: every path a stream changed must be one of its files or match one of its globs. */
import { isGlob } from '../plan/paths.js';
import { loadPicomatch } from '../util/lazy.js';

/** Changed paths that the owned paths/globs do not cover. */
export function outOfScopePaths(changed: readonly string[], owned: readonly string[]): string[] {
  const exact = new Set<string>();
  const dirs: string[] = [];
  const matchers: ((p: string) => boolean)[] = [];
  for (const raw of owned) {
    const entry = raw.replace(/^\.\//, '');
    // The parser's rule for a glob, so ownership matches what `analyze` showed.
    if (isGlob(entry)) matchers.push(loadPicomatch()(entry, { dot: true }));
    else if (entry.endsWith('/')) dirs.push(entry);
    else {
      exact.add(entry);
      // A plain path may name a directory: everything below it is owned too.
      dirs.push(`${entry}/`);
    }
  }
  return changed.filter(
    (p) => !exact.has(p) && !dirs.some((d) => p.startsWith(d)) && !matchers.some((m) => m(p)),
  );
}
