/**
 * Bounded text plumbing for agent output: a line splitter that never holds more than one capped line,
 * and a tail that keeps only the last N characters. An agent that prints gigabytes (or one endless line)
 * must cost Maestro a constant amount of memory.
 */

/** Splits a text stream into lines; a line longer than `maxLineChars` is cut there and the rest dropped. */
export class LineSplitter {
  #partial = '';
  #overflowing = false;

  constructor(
    private readonly maxLineChars: number,
    private readonly onLine: (line: string, truncated: boolean) => void,
  ) {}

  /** Feeds a decoded chunk; calls `onLine` for every complete line in it. */
  push(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline === -1) {
        this.#append(text.slice(start));
        return;
      }
      this.#append(text.slice(start, newline));
      this.#emit();
      start = newline + 1;
    }
  }

  /** Emits the last line if the stream ended without a newline. */
  end(): void {
    if (this.#partial !== '' || this.#overflowing) this.#emit();
  }

  #append(piece: string): void {
    if (this.#overflowing) return;
    const room = this.maxLineChars - this.#partial.length;
    if (piece.length > room) {
      this.#partial += piece.slice(0, room);
      this.#overflowing = true;
    } else {
      this.#partial += piece;
    }
  }

  #emit(): void {
    const line = this.#partial.endsWith('\r') ? this.#partial.slice(0, -1) : this.#partial;
    const truncated = this.#overflowing;
    this.#partial = '';
    this.#overflowing = false;
    this.onLine(line, truncated);
  }
}

/** Keeps the last `maxChars` characters of everything appended. */
export class BoundedTail {
  #text = '';
  #dropped = false;

  constructor(private readonly maxChars: number) {}

  append(text: string): void {
    // Amortised: trim only when twice over the bound, so each append is O(chunk).
    this.#text += text.length > this.maxChars ? text.slice(-this.maxChars) : text;
    if (text.length > this.maxChars) this.#dropped = true;
    if (this.#text.length > 2 * this.maxChars) {
      this.#text = this.#text.slice(-this.maxChars);
      this.#dropped = true;
    }
  }

  /** The kept tail (at most `maxChars`). */
  toString(): string {
    if (this.#text.length > this.maxChars) {
      this.#text = this.#text.slice(-this.maxChars);
      this.#dropped = true;
    }
    return this.#text;
  }

  /** Whether anything was dropped from the front. */
  get truncated(): boolean {
    return this.#dropped || this.#text.length > this.maxChars;
  }
}
