import { Command, CommanderError } from '@commander-js/extra-typings';
import { ConfigError } from '../config/load.js';
import { RunError, type RunErrorCode } from '../run/errors.js';
import type { RunStatus } from '../run/types.js';
import { GitError } from '../git/git.js';
import { redact } from '../util/redact.js';
import { CliError, ExitCode } from './errors.js';
import { registerCommands } from './commands/index.js';
import { takeOutcome, type CommandOutcome } from './outcome.js';
import { packageVersion } from './version.js';

/**
 * Builds the `maestro` program. `invoked` (the first argument) limits the registered commands to the one
 * being run, so its start-up loads only what it needs; without it every command is registered.
 */
export async function buildProgram(invoked?: string): Promise<Command> {
  const program = new Command()
    .name('maestro')
    .description('Turn a Markdown implementation plan into coordinated, parallel work by AI coding agents.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  await registerCommands(program, invoked);
  program.addHelpText(
    'after',
    `
Examples:
  $ maestro analyze plan.md              # streams, waves, critical path, estimate
  $ maestro analyze plan.md --json       # the same as one JSON document
  $ maestro run plan.md --agent demo --yes
  $ maestro status                       # the latest run
  $ maestro status --watch               # follow a run started in another terminal
  $ maestro report --format html --out report.html

Exit codes: 0 ok · 1 plan errors or failed streams · 2 usage error · 130 interrupted`,
  );
  return program;
}

/** The exit code of a run that ended with `status`. */
function runExitCode(status: RunStatus): number {
  switch (status) {
    case 'completed':
      return ExitCode.ok;
    case 'interrupted':
      return ExitCode.interrupted;
    case 'failed':
    case 'stopped':
    case 'budget-exceeded':
    case 'aborted':
    case 'running':
      return ExitCode.failure;
  }
}

/** The exit code of a command's outcome. */
function outcomeExitCode(outcome: CommandOutcome | null): number {
  if (outcome === null) return ExitCode.ok;
  switch (outcome.kind) {
    case 'analysed':
      return outcome.failed ? ExitCode.failure : ExitCode.ok;
    case 'run-ended':
      return runExitCode(outcome.status);
    case 'watch-ended':
      if (outcome.stoppedWatching) return ExitCode.interrupted;
      return outcome.status === 'completed' ? ExitCode.ok : ExitCode.failure;
  }
}

/** The exit code of the engine's expected failures: a run held by another process is a failure, the rest usage. */
function runErrorExitCode(code: RunErrorCode): number {
  return code === 'locked' || code === 'baseline-failed' ? ExitCode.failure : ExitCode.usage;
}

/** Runs the CLI and returns the exit code; the only place that maps outcomes and errors to exit codes. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv[2]);
    await program.parseAsync([...argv]);
    return outcomeExitCode(takeOutcome());
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError || error instanceof ConfigError || error instanceof RunError) {
      process.stderr.write(`maestro: ${redact(error.message)}\n`);
      if (error instanceof RunError) return runErrorExitCode(error.code);
      return error instanceof CliError ? error.exitCode : ExitCode.usage;
    }
    // Git failures are expected (a refusing hook, a stale lock, no git): git's words and what to do.
    if (error instanceof GitError) {
      process.stderr.write(`maestro: [${error.code}] ${error.message}\n`);
      return ExitCode.failure;
    }
    throw error;
  }
}
