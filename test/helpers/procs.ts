/**
 * `processesUnder` for tests: the same scan as Maestro's, but it fails loudly where `/proc` cannot be
 * read (Maestro's own scan then finds nothing), so "no leftover process" never passes vacuously.
 */
import { readdirSync } from 'node:fs';
import { processesUnder as scan } from '../../src/util/procs.js';

/** Pids of live processes working in `dir` or below; throws when `/proc` cannot be read. */
export function processesUnder(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch (e) {
    throw new Error(`cannot read /proc to look for leftover processes under ${dir}: ${String(e)}`, {
      cause: e,
    });
  }
  if (!entries.includes(String(process.pid)))
    throw new Error(
      `/proc does not list this test's own process (${String(process.pid)}): not a usable procfs`,
    );
  return scan(dir);
}
