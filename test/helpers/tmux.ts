/**
 * A real pseudo-terminal for end-to-end tests of the live view: a tmux server on a private socket
 * (so `kill()` ends it and everything in it), sessions of a fixed size, screen captures as text.
 * Waiting polls the captured screen (there is no output stream to listen to), never sleeps blindly.
 */
import { execFileSync } from 'node:child_process';

/** Quotes a string for `/bin/sh`. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** True when the `tmux` binary is installed (the Debian package `tmux`). */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One tmux server with one session; windows are addressed by index. */
export class Tmux {
  /** `socket`: a path in the test's temp dir, so no socket file outlives the test (kill-server leaves it). */
  constructor(readonly socket: string) {}

  #tmux(args: readonly string[]): string {
    return execFileSync('tmux', ['-S', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /**
   * Starts the session running `command` (a shell command line) in a `columns`×`rows` terminal.
   * The command is followed by `[exit N]` and a long sleep, so the final screen stays to be captured.
   */
  start(command: string, columns: number, rows: number): void {
    this.#tmux([
      'new-session',
      '-d',
      '-s',
      'test',
      '-x',
      String(columns),
      '-y',
      String(rows),
      this.#wrap(command),
    ]);
  }

  /** Opens another window in the session running `command`; returns its index. */
  newWindow(command: string): number {
    return Number(
      this.#tmux(['new-window', '-P', '-F', '#{window_index}', '-t', 'test', this.#wrap(command)]).trim(),
    );
  }

  #wrap(command: string): string {
    // A subshell: the sleep keeps no working directory inside the test repository.
    return `(${command}); echo "[exit $?]"; exec sleep 600`;
  }

  /** The visible screen of a window (no colours), trailing blank lines removed. */
  screen(window = 0): string {
    return this.#tmux(['capture-pane', '-p', '-t', `test:${String(window)}`]).trimEnd();
  }

  /** The screen and its scrollback. */
  history(window = 0): string {
    return this.#tmux(['capture-pane', '-p', '-S', '-', '-t', `test:${String(window)}`]).trimEnd();
  }

  /** Whether the window's cursor is visible (`#{cursor_flag}`). */
  cursorVisible(window = 0): boolean {
    return (
      this.#tmux(['display-message', '-p', '-t', `test:${String(window)}`, '#{cursor_flag}']).trim() === '1'
    );
  }

  /** Sends keys (tmux key names: `Enter`, `Down`, `C-c`, or text). */
  sendKeys(window: number, ...keys: string[]): void {
    this.#tmux(['send-keys', '-t', `test:${String(window)}`, ...keys]);
  }

  /** Polls the screen (every 50 ms) until `pattern` matches it; returns the screen. */
  async waitForScreen(pattern: RegExp, window = 0, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen(window);
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${String(pattern)} on the screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Ends the server and every process in it. Safe to call twice. */
  kill(): void {
    try {
      this.#tmux(['kill-server']);
    } catch {
      // Already gone.
    }
  }
}
