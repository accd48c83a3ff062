/**
 * Follows a run's journal (`events.jsonl`) as another process appends to it, for `status --watch`.
 * Polls the file's size rather than using `fs.watch`, which misses appends on some file systems
 * (network mounts, some containers) and fires more than once per write on others.
 */
import { open } from 'node:fs/promises';
import type { RunEvent } from './types.js';

/** Reads the complete lines appended since the last call; a partial last line waits for the next. */
export class JournalTail {
  #offset = 0;
  #partial = '';

  constructor(readonly file: string) {}

  /** New events since the last read (none when the file does not exist yet). */
  async read(): Promise<RunEvent[]> {
    let handle;
    try {
      handle = await open(this.file, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = await handle.stat();
      if (size < this.#offset) {
        // Truncated or replaced: start over.
        this.#offset = 0;
        this.#partial = '';
      }
      if (size === this.#offset) return [];
      const buffer = Buffer.alloc(size - this.#offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
      this.#offset += bytesRead;
      const text = this.#partial + buffer.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      const events: RunEvent[] = [];
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          events.push(JSON.parse(line) as RunEvent);
        } catch {
          // A line that is not JSON is skipped, as readJournal does.
        }
      }
      return events;
    } finally {
      await handle.close();
    }
  }
}
