import type { Command } from '@commander-js/extra-typings';

/** `maestro analyze PLAN`: placeholder until the analysis pipeline is wired. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('Parse and analyse a plan: streams, roles, waves, critical path, conflicts, estimates')
    .argument('<plan>', 'the Markdown plan')
    .action(() => undefined);
}
