// Installs the real agent CLIs (Claude Code, Codex, Gemini CLI) that only the agent tests run into
// test/agents-cli/node_modules, from that folder's own lockfile. They are ~860 MB, so the root
// `npm ci` leaves them out; the test setup (test/setup/agent-clis.ts) and .ci/run call this.
// It reinstalls only when the lockfile changed since the last install (a hash stamp in
// node_modules), so a second test run costs nothing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../test/agents-cli/', import.meta.url));
const stamp = new URL('../test/agents-cli/node_modules/.maestro-lock-sha256', import.meta.url);
const bins = ['claude', 'codex', 'gemini'];

const lockHash = createHash('sha256')
  .update(readFileSync(new URL('../test/agents-cli/package-lock.json', import.meta.url)))
  .digest('hex');
const installed =
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8').trim() === lockHash &&
  bins.every((bin) => existsSync(new URL(`../test/agents-cli/node_modules/.bin/${bin}`, import.meta.url)));

if (!installed) {
  process.stderr.write(
    `Installing the agent CLIs the agent tests run (${bins.join(', ')}) into ${dir}node_modules …\n`,
  );
  try {
    // Output goes to stderr so that a caller's stdout stays clean; EBADENGINE from Claude Code on Node 20
    // is expected (its bin is a native executable that runs on any Node).
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      stdio: ['ignore', process.stderr, process.stderr],
    });
  } catch {
    process.stderr.write(
      `Could not install the agent CLIs in ${dir}. Run \`npm ci\` there by hand (it needs the npm registry) and re-run the tests.\n`,
    );
    process.exit(1);
  }
  writeFileSync(stamp, `${lockHash}\n`);
}
