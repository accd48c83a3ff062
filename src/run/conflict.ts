/**
 * Conflicts handed back to the agent that made them: what each side of a conflicting merge changed,
 * read from the object store (no worktree), for the prompt that asks the agent to resolve it.
 */
import { git, gitRaw, mergeTree } from '../git/git.js';
import type { ConflictSide } from './prompt.js';

/** Most characters of one side's diff in a prompt. */
const maxSideChars = 6_000;
/** Most conflicting paths described in full in a prompt (all of them are named). */
const maxDescribedPaths = 20;

function clip(text: string): string {
  return text.length <= maxSideChars
    ? text
    : `${text.slice(0, maxSideChars)}\n… (${String(text.length - maxSideChars)} more characters)`;
}

/**
 * The paths where merging `theirs` (the last green commit) into `ours` (a stream's commit) conflicts,
 * each with both sides' changes since they forked and the streams whose merges made the other side;
 * null when the two merge cleanly.
 */
export async function conflictSides(
  repo: string,
  ours: string,
  theirs: string,
): Promise<ConflictSide[] | null> {
  const merged = await mergeTree(repo, ours, theirs);
  if (merged.clean) return null;
  const base = await gitRaw(repo, ['merge-base', ours, theirs]);
  const fork = base.exitCode === 0 ? base.stdout.trim() : null;
  const diff = async (to: string, file: string): Promise<string> =>
    fork === null ? '' : clip(await git(repo, ['diff', '--no-color', '--no-ext-diff', fork, to, '--', file]));
  return Promise.all(
    merged.conflicts.map(async (file, i): Promise<ConflictSide> => {
      if (i >= maxDescribedPaths)
        return { path: file, ours: '(not shown)', theirs: '(not shown)', theirStreams: [] };
      // The integration branch's first-parent history is Maestro's merges: their subjects name the streams.
      const subjects =
        fork === null
          ? ''
          : await git(repo, ['log', '--first-parent', '--format=%s', `${fork}..${theirs}`, '--', file]);
      const theirStreams = [
        ...new Set(
          subjects
            .split('\n')
            .map((s) => /^maestro: merge (\S+) /.exec(s)?.[1])
            .filter((s) => s !== undefined),
        ),
      ];
      const [oursDiff, theirsDiff] = await Promise.all([diff(ours, file), diff(theirs, file)]);
      return { path: file, ours: oursDiff, theirs: theirsDiff, theirStreams };
    }),
  );
}
