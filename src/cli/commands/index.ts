import type { Command } from '@commander-js/extra-typings';

/**
 * Every subcommand, in help order; each lives in its own file and is imported only when needed, so
 * `maestro run` does not load the report, skill or init code (and their dependencies).
 */
const commands = {
  analyze: async () => (await import('./analyze.js')).registerAnalyze,
  init: async () => (await import('./init.js')).registerInit,
  report: async () => (await import('./report.js')).registerReport,
  skill: async () => (await import('./skill.js')).registerSkill,
  run: async () => (await import('./run.js')).registerRun,
  status: async () => (await import('./status.js')).registerStatus,
  resume: async () => (await import('./resume.js')).registerResume,
  retry: async () => (await import('./resume.js')).registerRetry,
  abort: async () => (await import('./abort.js')).registerAbort,
  clean: async () => (await import('./clean.js')).registerClean,
  worker: async () => (await import('./worker.js')).registerWorker,
} satisfies Record<string, () => Promise<(program: Command) => void>>;

type CommandName = keyof typeof commands;

function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(commands, name);
}

/**
 * Registers the subcommands: only `invoked` when it names one (its help and errors are its own), else
 * all of them (the program's help, `help CMD`, unknown-command suggestions).
 */
export async function registerCommands(program: Command, invoked?: string): Promise<void> {
  const names: CommandName[] = isCommandName(invoked) ? [invoked] : (Object.keys(commands) as CommandName[]);
  const registers = await Promise.all(names.map((name) => commands[name]()));
  for (const register of registers) register(program);
}
