import type { Command } from '@commander-js/extra-typings';
import { registerAnalyze } from './analyze.js';
import { registerInit } from './init.js';
import { registerReport } from './report.js';
import { registerSkill } from './skill.js';
import { registerRun } from './run.js';
import { registerStatus } from './status.js';
import { registerResume } from './resume.js';
import { registerAbort } from './abort.js';
import { registerClean } from './clean.js';

/** Registers every subcommand; each lives in its own file. */
export function registerCommands(program: Command): void {
  registerAnalyze(program);
  registerInit(program);
  registerReport(program);
  registerSkill(program);
  registerRun(program);
  registerStatus(program);
  registerResume(program);
  registerAbort(program);
  registerClean(program);
}
