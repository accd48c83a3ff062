/** The event bus: the run loop publishes typed events; the journal and reporters subscribe. */
import type { RunEvent } from './types.js';

export type RunEventListener = (event: RunEvent) => void;

/** Synchronous fan-out of run events. A throwing subscriber is a bug and propagates. */
export class EventBus {
  readonly #listeners = new Set<RunEventListener>();

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: RunEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: RunEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
