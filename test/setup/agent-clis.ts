/**
 * Vitest global set-up: makes sure the real agent CLIs that the agent tests drive (against loopback
 * stand-ins of their model APIs) are installed under test/agents-cli, which the root `npm ci` leaves out.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Installs the agent CLIs from test/agents-cli/package-lock.json unless they are already installed. */
export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/install-agent-clis.mjs', import.meta.url));
  execFileSync(process.execPath, [script], { stdio: ['ignore', 'inherit', 'inherit'] });
}
