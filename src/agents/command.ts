/**
 * The `command` backend: the user's own agent command (`--agent-command CMD`), run through `/bin/sh -c`
 * in the stream's worktree. Plan text reaches it only through stdin, files and environment variables,
 * never through the command line.
 */
import {
  crashFailure,
  failed,
  lastLines,
  spawnFailure,
  stoppedFailure,
  succeeded,
  tailText,
} from './outcome.js';
import {
  noUsage,
  type AgentActivity,
  type AgentBackend,
  type AgentTask,
  type OutputParser,
} from './types.js';

/** How much of stdout becomes the report when the agent writes no report file. */
export const REPORT_TAIL_CHARS = 8_000;

/** The MAESTRO_* environment every Maestro-driven agent receives (the `command` contract). */
export function maestroEnv(task: AgentTask): Record<string, string> {
  return {
    MAESTRO_RUN_ID: task.runId,
    MAESTRO_STREAM_ID: task.streamId,
    MAESTRO_STREAM_TITLE: task.streamTitle,
    MAESTRO_ROLE: task.role,
    MAESTRO_FILES: task.files.join('\n'),
    MAESTRO_PROMPT_FILE: task.promptFile,
    MAESTRO_REPORT_FILE: task.reportFile,
    MAESTRO_MODEL: task.model,
  };
}

/** The `command` backend for a shell command line written by the user. */
export function commandBackend(agentCommand: string): AgentBackend {
  if (agentCommand.trim() === '') throw new Error('commandBackend: empty agent command');
  return {
    name: 'command',
    spawnSpec: (task) => ({
      command: agentCommand,
      args: [],
      env: { ...task.env, ...maestroEnv(task) },
      stdin: task.prompt,
      shell: true,
      writeFiles: [{ path: task.promptFile, content: task.prompt }],
    }),
    createParser: () =>
      new PlainOutputParser(
        `agent command \`${agentCommand}\``,
        '/bin/sh',
        'Maestro needs a POSIX shell at /bin/sh.',
      ),
  };
}

/**
 * Reads an agent that prints plain text: every stdout line is progress; exit 0 means done, and the
 * report is the report file if written, else the tail of stdout.
 */
export class PlainOutputParser implements OutputParser {
  constructor(
    private readonly what: string,
    private readonly executable: string,
    private readonly installHint: string,
  ) {}

  onStdoutLine(line: string): readonly AgentActivity[] {
    return line.trim() === '' ? [] : [{ kind: 'output', text: line }];
  }

  onStderrLine(line: string): readonly AgentActivity[] {
    return line.trim() === '' ? [] : [{ kind: 'output', text: line }];
  }

  finish(exit: Parameters<OutputParser['finish']>[0]): ReturnType<OutputParser['finish']> {
    const early =
      spawnFailure(exit, this.executable, this.installHint, noUsage) ??
      stoppedFailure(exit, noUsage) ??
      crashFailure(exit, noUsage);
    if (early !== undefined) return early;
    if (exit.exitCode === 0) {
      const report = exit.reportFileText?.trim() ?? '';
      return succeeded(report !== '' ? report : tailText(exit.stdoutTail, REPORT_TAIL_CHARS), noUsage);
    }
    const stderr = lastLines(exit.stderrTail, 10);
    const detail = stderr === '' ? lastLines(exit.stdoutTail, 5) : stderr;
    if (exit.exitCode === 127) {
      return failed(
        'missing-binary',
        `${this.what} was not found by the shell (exit 127): ${detail}`,
        noUsage,
      );
    }
    return failed(
      'exit-nonzero',
      `${this.what} exited with code ${exit.exitCode ?? 'unknown'}${detail === '' ? '' : `:\n${detail}`}`,
      noUsage,
    );
  }
}
