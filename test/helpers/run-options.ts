/** Run options for engine tests that call `startRun` in-process: the `command` backend, one retry, `dag`. */
import type { RunOptions } from '../../src/run/types.js';

/** The options `maestro run` would pass for a stand-in agent, with `overrides` on top. */
export function testRunOptions(overrides: Partial<RunOptions> = {}): RunOptions {
  return {
    agent: 'command',
    maxParallel: 10,
    schedule: 'dag',
    validate: [],
    onFailure: 'continue',
    retries: 1,
    base: 'HEAD',
    land: false,
    timeoutMs: 60_000,
    stallMs: 60_000,
    ownership: 'fail',
    ...overrides,
  };
}
