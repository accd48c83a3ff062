/**
 * A lock for async work that hands itself to the most urgent waiter next (lowest priority number;
 * first come, first served among equals), without blocking the event loop. The run engine uses it for
 * merges into the integration branch and for `git worktree` commands, so that when several streams
 * finish together, the one on the critical path is not queued behind the others.
 */

/** A waiter's urgency: lower runs first. */
export type Priority = number;

interface Waiter {
  readonly priority: Priority;
  readonly seq: number;
  readonly start: () => void;
}

export class PriorityLock {
  /** Few waiters at a time (at most a run's streams): a scan beats keeping a heap in order. */
  readonly #waiting: Waiter[] = [];
  #busy = false;
  #seq = 0;

  /** Runs `work` once the lock is free and no more urgent work waits; resolves or rejects with it. */
  run<T>(priority: Priority, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.#busy = true;
        // `then(work)`, so a synchronous throw in `work` becomes a rejection too.
        Promise.resolve()
          .then(work)
          .then(resolve, reject)
          .finally(() => {
            this.#busy = false;
            this.#next()?.start();
          });
      };
      if (this.#busy) this.#waiting.push({ priority, seq: this.#seq++, start });
      else start();
    });
  }

  #next(): Waiter | undefined {
    let best = -1;
    let bestValue = Infinity;
    for (const [i, w] of this.#waiting.entries()) {
      const value = w.priority;
      // Waiters are in arrival order, so `<` keeps the earliest among equals.
      if (best < 0 || value < bestValue) {
        best = i;
        bestValue = value;
      }
    }
    return best < 0 ? undefined : this.#waiting.splice(best, 1)[0];
  }
}
