/**
 * A small windowed terminal renderer: a live "window" of lines at the bottom of the screen, redrawn in
 * place, with permanent lines (finished streams, anything else written to stdout/stderr meanwhile)
 * printed once above it. Each frame is one `write` — erase the window, print the new permanent lines,
 * draw the window — throttled to about ten frames a second, so the terminal never shows a half-drawn
 * frame and a busy run does not flood it.
 */
import stringWidth from 'fast-string-width';

/** The parts of a TTY write stream the renderer uses (a `tty.WriteStream` fits). */
export interface TerminalStream {
  write(chunk: string): boolean;
  readonly columns?: number;
  readonly rows?: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

/** A stream whose writes are routed above the window while it is shown (process.stdout, process.stderr). */
export interface InterceptableStream {
  write: NodeJS.WriteStream['write'];
}

export interface RendererOptions {
  /** Lines of the window, built fresh for each frame; each must fit `columns - 1` (see `fitWidth`). */
  readonly window: (size: { columns: number; rows: number }) => readonly string[];
  /** Minimum time between frames. */
  readonly intervalMs?: number;
  /** Streams whose writes are printed above the window instead of tearing it (e.g. Ctrl-C messages). */
  readonly intercept?: readonly InterceptableStream[];
}

const ESC = '\u001b[';
const hideCursor = `${ESC}?25l`;
const showCursor = `${ESC}?25h`;
// DEC private mode 2026 (synchronized output): terminals that know it paint the frame at once; others ignore it.
const beginSync = `${ESC}?2026h`;
const endSync = `${ESC}?2026l`;

/** Visible width of a string in terminal columns (wide characters count two), ANSI escapes excluded. */
export function visibleLength(text: string): number {
  return stringWidth(text);
}

/** Rows a line of `length` visible characters takes on a terminal `columns` wide (at least one). */
export function rowsTaken(length: number, columns: number): number {
  return Math.max(1, Math.ceil(length / Math.max(1, columns)));
}

/** Draws a window of lines in place below permanent output. */
export class WindowedRenderer {
  readonly #out: TerminalStream;
  readonly #options: RendererOptions;
  readonly #intervalMs: number;
  /** Visible lengths of the window lines on screen now (to erase them, also after a resize). */
  #drawn: number[] = [];
  #pendingLog = '';
  #timer: NodeJS.Timeout | null = null;
  #ticker: NodeJS.Timeout | null = null;
  #lastFrame = 0;
  #active = false;
  #restores: (() => void)[] = [];
  /** The stream's own write, kept before writes to it are intercepted. */
  #write: (text: string) => void = (text) => {
    this.#out.write(text);
  };
  readonly #onResize = () => {
    this.#render();
  };
  readonly #onExit = () => {
    this.#write(showCursor);
  };

  constructor(out: TerminalStream, options: RendererOptions) {
    this.#out = out;
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 100;
  }

  /** Terminal size now (80×24 when the stream does not say). */
  size(): { columns: number; rows: number } {
    return { columns: this.#out.columns ?? 80, rows: this.#out.rows ?? 24 };
  }

  /** Starts drawing: hides the cursor, routes other writes above the window, redraws on a timer. */
  start(): void {
    if (this.#active) return;
    this.#active = true;
    const write = this.#out.write.bind(this.#out);
    this.#write = (text) => {
      write(text);
    };
    this.#write(hideCursor);
    process.on('exit', this.#onExit);
    this.#out.on('resize', this.#onResize);
    for (const stream of this.#options.intercept ?? []) this.#interceptWrites(stream);
    this.#ticker = setInterval(() => {
      this.update();
    }, this.#intervalMs);
    this.#ticker.unref();
    this.#render();
  }

  /** Prints text above the window, once, on the next frame. */
  log(text: string): void {
    if (text === '') return;
    this.#pendingLog += text.endsWith('\n') ? text : `${text}\n`;
    if (this.#active) this.update();
    else this.#out.write(this.#takeLog());
  }

  /** Asks for a frame; frames closer together than the interval are merged into one. */
  update(): void {
    if (!this.#active || this.#timer !== null) return;
    const wait = this.#lastFrame + this.#intervalMs - Date.now();
    if (wait <= 0) {
      this.#render();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#render();
    }, wait);
    this.#timer.unref();
  }

  /** Stops drawing: erases the window, prints pending lines, shows the cursor, restores the streams. */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#timer = null;
    this.#ticker = null;
    for (const restore of this.#restores.splice(0).reverse()) restore();
    this.#out.off('resize', this.#onResize);
    process.off('exit', this.#onExit);
    this.#out.write(`${this.#erase()}${this.#takeLog()}${showCursor}`);
    this.#drawn = [];
  }

  #takeLog(): string {
    const text = this.#pendingLog;
    this.#pendingLog = '';
    return text;
  }

  /** Moves to the window's first row and clears to the end of the screen. */
  #erase(): string {
    if (this.#drawn.length === 0) return '';
    // After a resize the old lines may have been re-wrapped to the new width.
    const { columns } = this.size();
    const rows = this.#drawn.reduce((sum, len) => sum + rowsTaken(len, columns), 0);
    return `\r${ESC}${String(rows)}A${ESC}J`;
  }

  #render(): void {
    if (!this.#active) return;
    this.#lastFrame = Date.now();
    const size = this.size();
    // The window must stay on screen: rows scrolled into the scrollback cannot be erased.
    const lines = this.#options.window(size).slice(0, Math.max(1, size.rows - 1));
    const body = lines.map((l) => `${l}\n`).join('');
    this.#write(`${beginSync}${this.#erase()}${this.#takeLog()}${body}${endSync}`);
    this.#drawn = lines.map(visibleLength);
  }

  #interceptWrites(stream: InterceptableStream): void {
    const original = stream.write;
    const replacement = (chunk: unknown, ...rest: unknown[]): boolean => {
      this.log(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (callback) queueMicrotask(callback);
      return true;
    };
    stream.write = replacement;
    this.#restores.push(() => {
      stream.write = original;
    });
  }
}
