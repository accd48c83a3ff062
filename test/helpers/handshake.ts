/**
 * Shell snippets for the file handshakes between a test and the stand-in agents or gates it starts:
 * the script marks a file once it has got somewhere, then blocks until the test (or another stream)
 * creates the file that lets it go on, so order is decided by files, never by sleeps. Paths are put
 * in single quotes: temp paths, which hold none.
 */

/** Shell: block until `file` exists (polling every 50 ms). */
export function waitForFileSh(file: string): string {
  return `while [ ! -f '${file}' ]; do sleep 0.05; done`;
}

/** Shell: create `marker` (the script has started), then block until `go` exists. */
export function touchThenWaitSh(marker: string, go: string): string {
  return `touch '${marker}'; ${waitForFileSh(go)}`;
}
