/**
 * The `demo` backend: runs Maestro's own deterministic demo agent (`demo-agent.js`) with the current Node,
 * through exactly the same contract as any other agent. For the quick start and demos, not for real work.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { maestroEnv, PlainOutputParser } from './command.js';
import type { AgentActivity, AgentBackend } from './types.js';

/** Where the compiled demo agent lives: next to this module in `dist/`, or in `dist/` when running from `src/`. */
export function defaultDemoAgentPath(): string {
  const sibling = fileURLToPath(new URL('./demo-agent.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  return fileURLToPath(new URL('../../dist/agents/demo-agent.js', import.meta.url));
}

/** The demo backend. */
export function demoBackend(options: { readonly agentPath?: string } = {}): AgentBackend {
  const agentPath = options.agentPath ?? defaultDemoAgentPath();
  return {
    name: 'demo',
    spawnSpec: (task) => ({
      command: process.execPath,
      args: [agentPath],
      env: { ...task.env, ...maestroEnv(task) },
      stdin: task.prompt,
      shell: false,
    }),
    createParser: () =>
      new DemoOutputParser(
        `demo agent (${agentPath})`,
        process.execPath,
        'Build Maestro first (npm run build).',
      ),
  };
}

/** Plain output, plus an `edit` activity for each file the demo agent reports touching. */
class DemoOutputParser extends PlainOutputParser {
  override onStdoutLine(line: string): readonly AgentActivity[] {
    const match = /^demo: (?:created|edited) (.+)$/.exec(line);
    if (match?.[1] !== undefined) return [{ kind: 'edit', path: match[1] }];
    return super.onStdoutLine(line);
  }
}
