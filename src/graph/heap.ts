/**
 * A small binary min-heap, so the schedulers stay O((V + E) log V) on large plans.
 */

/** A binary min-heap ordered by `less`. */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  /** `less(a, b)` is true when `a` must come out before `b`. */
  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  /** Number of items in the heap. */
  get size(): number {
    return this.#items.length;
  }

  /** The smallest item without removing it, or undefined when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(this.#at(i), this.#at(parent))) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the smallest item, or undefined when empty. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && this.#less(this.#at(left), this.#at(smallest))) smallest = left;
      if (right < items.length && this.#less(this.#at(right), this.#at(smallest))) smallest = right;
      if (smallest === i) break;
      this.#swap(i, smallest);
      i = smallest;
    }
    return top;
  }

  #at(i: number): T {
    return this.#items[i] as T;
  }

  #swap(i: number, j: number): void {
    const a = this.#at(i);
    this.#items[i] = this.#at(j);
    this.#items[j] = a;
  }
}
