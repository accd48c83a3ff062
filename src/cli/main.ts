import { Command, CommanderError } from '@commander-js/extra-typings';
import { CliError, ExitCode } from './errors.js';
import { registerCommands } from './commands/index.js';
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

/** Runs the CLI and returns the exit code; the only place that maps errors to exit codes. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv[2]);
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`maestro: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
