/**
 * Findings 4 and 5 (runner level): a daemon holding the agent's pipes (`setsid … &`) does not hang
 * the run, and background processes (`nohup`, `setsid`) do not outlive their agent. What was stopped
 * is reported. Gates get the same treatment.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandBackend } from '../../src/agents/command.js';
import { runAgent } from '../../src/agents/process.js';
import { runValidation } from '../../src/run/validate.js';
import { processesUnder } from '../../src/util/procs.js';
import { makeTask, tempDir } from '../agents/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('maestro-reap-'));
});
afterEach(async () => {
  expect(processesUnder(dir)).toEqual([]);
  await cleanup();
});

describe('processes end with their agent', () => {
  it('a setsid daemon holding the pipes: the agent finishes, the daemon is stopped and reported', async () => {
    const backend = commandBackend('setsid sleep 1000 & echo started; echo done');
    const outcome = await runAgent(backend, makeTask(dir), { eofGraceMs: 200, graceMs: 500 });
    expect(outcome.ok).toBe(true);
    expect(outcome.notices?.join('\n')).toMatch(/left 1 background process; stopped \(pid \d+ sleep 1000\)/);
    expect(processesUnder(dir)).toEqual([]);
  });

  it('nohup and setsid background jobs with their output redirected are stopped too', async () => {
    const backend = commandBackend(
      'nohup sleep 1000 >/dev/null 2>&1 & setsid sleep 1001 >/dev/null 2>&1 < /dev/null & echo done',
    );
    const outcome = await runAgent(backend, makeTask(dir), { eofGraceMs: 200, graceMs: 500 });
    expect(outcome.ok).toBe(true);
    expect(outcome.notices?.join('\n')).toMatch(/left 2 background processes; stopped/);
  });

  it('an agent that leaves nothing behind reports nothing', async () => {
    const outcome = await runAgent(commandBackend('echo done'), makeTask(dir));
    expect(outcome.ok).toBe(true);
    expect(outcome.notices).toBeUndefined();
  });

  it('a gate that starts a daemon holding its pipes ends, and the daemon is stopped', async () => {
    const result = await runValidation(['setsid sleep 1000 & echo gate-ok'], dir, { timeoutMs: 60_000 });
    expect(result.ok).toBe(true);
    // afterEach: nothing is left running in the directory.
  });
});
