/** `maestro run --review`: the question asked before each merge (approve, skip, show the diff, abort). */
import type { MergeReview, ReviewDecision } from '../run/engine.js';

/** Shows the stream's diff stat and asks what to do; the full diff is printed on request. Ctrl-C aborts. */
export async function askReview(review: MergeReview): Promise<ReviewDecision> {
  // Loaded only when a question is shown, so runs without --review never load the prompt library.
  const { isCancel, note, select } = await import('@clack/prompts');
  const stat = review.diffStat.trimEnd();
  note(stat === '' ? '(no changes)' : stat, `${review.streamId}: ${review.title} [${review.role}]`);
  for (;;) {
    const answer = await select<ReviewDecision | 'diff'>({
      message: `Merge ${review.streamId} into the integration branch?`,
      options: [
        { value: 'approve', label: 'approve', hint: 'merge it and run its validation' },
        { value: 'skip', label: 'skip', hint: 'do not merge; streams that depend on it are skipped too' },
        { value: 'diff', label: 'show the full diff' },
        { value: 'abort', label: 'abort', hint: 'stop the run; `maestro resume` continues it' },
      ],
    });
    if (isCancel(answer)) return 'abort';
    if (answer !== 'diff') return answer;
    process.stdout.write(`${(await review.diff()).trimEnd()}\n`);
  }
}
