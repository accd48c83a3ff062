import { describe, expect, it } from 'vitest';
import { PriorityLock } from '../../src/util/priority-lock.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('PriorityLock', () => {
  it('runs one job at a time and hands the lock to the most urgent waiter, FIFO among equals', async () => {
    const lock = new PriorityLock();
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const gate = deferred();
    const job = (name: string, wait?: Promise<void>) => async () => {
      running += 1;
      most = Math.max(most, running);
      order.push(name);
      await (wait ?? Promise.resolve());
      running -= 1;
    };
    const first = lock.run(5, job('first', gate.promise));
    const rest = [
      lock.run(3, job('p3-a')),
      lock.run(9, job('p9')),
      lock.run(1, job('p1')),
      lock.run(3, job('p3-b')),
    ];
    gate.resolve();
    await Promise.all([first, ...rest]);
    expect(order).toEqual(['first', 'p1', 'p3-a', 'p3-b', 'p9']);
    expect(most).toBe(1);
  });

  it('passes results and errors through and keeps going after a failure', async () => {
    const lock = new PriorityLock();
    const failed = lock.run(0, () => {
      throw new Error('boom');
    });
    const ok = lock.run(0, () => Promise.resolve(42));
    await expect(failed).rejects.toThrow('boom');
    await expect(ok).resolves.toBe(42);
  });
});
