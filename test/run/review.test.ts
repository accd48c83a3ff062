/** The engine's `reviewMerge` hook (`maestro run --review`): approve merges, skip skips dependants too, abort stops resumably. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { resumeRun, startRun, type MergeReview, type ReviewDecision } from '../../src/run/engine.js';
import { EventBus } from '../../src/run/events.js';
import { LocalExecutor } from '../../src/run/executor.js';
import type { RunOptions } from '../../src/run/types.js';
import { installStandInAgent } from '../helpers/agent.js';
import { makeAnalysis } from '../helpers/analysis.js';
import { gitSync, initRepo, inProcessGitTests, makeTempDir } from '../helpers/repo.js';
import { testRunOptions } from '../helpers/run-options.js';

const cleanups = inProcessGitTests();

const options: RunOptions = testRunOptions({ maxParallel: 4, retries: 0 });

function setup(answers: Readonly<Record<string, ReviewDecision>>) {
  const tmp = makeTempDir();
  cleanups.push(tmp.cleanup);
  const repo = path.join(tmp.dir, 'repo');
  initRepo(repo);
  const agent = installStandInAgent(tmp.dir);
  const reviews: MergeReview[] = [];
  const hooks = {
    executor: new LocalExecutor(commandBackend(agent.command), 500),
    bus: new EventBus(),
    reviewMerge: (review: MergeReview) => {
      reviews.push(review);
      return Promise.resolve(answers[review.streamId] ?? 'approve');
    },
  };
  const analysis = makeAnalysis([
    { id: 's1', files: ['db/migration.sql'], role: 'migration' },
    { id: 's2', deps: ['s1'], files: ['app/models.py'], role: 'models' },
  ]);
  return { repo, hooks, reviews, analysis, agent };
}

describe('reviewMerge', () => {
  it('shows the diff stat and the full diff, and merges what is approved', async () => {
    const { repo, hooks, reviews, analysis } = setup({});
    const result = await startRun(repo, analysis, options, hooks, 'r1');
    expect(result.state.status).toBe('completed');
    expect(reviews.map((r) => r.streamId)).toEqual(['s1', 's2']);
    expect(reviews[0]?.diffStat).toMatch(/db\/migration\.sql \| 1 \+/);
    expect(await reviews[0]?.diff()).toContain('+// s1');
    expect(gitSync(repo, ['ls-tree', '-r', '--name-only', 'maestro/r1'])).toContain('app/models.py');
  });

  it('skip: the stream is not merged and its dependants are skipped', async () => {
    const { repo, hooks, reviews, analysis } = setup({ s1: 'skip' });
    const result = await startRun(repo, analysis, options, hooks, 'r1');
    expect(reviews.map((r) => r.streamId)).toEqual(['s1']);
    expect(result.state.streams.s1?.status).toBe('skipped');
    expect(result.state.streams.s2?.status).toBe('skipped');
    expect(result.state.status).toBe('failed');
    expect(gitSync(repo, ['ls-tree', '-r', '--name-only', 'maestro/r1'])).not.toContain('db/migration.sql');
  });

  it('abort: the run stops, resumable, and the reviewed stream is merged on resume', async () => {
    const { repo, hooks, analysis } = setup({ s2: 'abort' });
    const stopped = await startRun(repo, analysis, options, hooks, 'r1');
    expect(stopped.state.status).toBe('stopped');
    expect(stopped.state.streams.s1?.status).toBe('merged');
    expect(stopped.state.streams.s2?.status).toBe('committed');
    const resumed = await resumeRun(repo, 'r1', { executor: hooks.executor, bus: hooks.bus });
    expect(resumed.state.streams.s2?.error).toBeNull();
    expect(resumed.state.status).toBe('completed');
    expect(resumed.state.mergeOrder).toEqual(['s1', 's2']);
  });
});
