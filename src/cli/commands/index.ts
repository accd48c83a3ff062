import type { Command } from '@commander-js/extra-typings';
import { registerAnalyze } from './analyze.js';

/** Registers every subcommand; each lives in its own file. */
export function registerCommands(program: Command): void {
  registerAnalyze(program);
}
