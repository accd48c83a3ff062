import type { Command } from '@commander-js/extra-typings';
import { formatAnalysisSummary } from '../../ui/analysis-summary.js';
import { ExitCode, parsePositiveInt } from '../errors.js';
import { loadAnalysis, planErrors } from '../load-analysis.js';
import { runSetupFor, setupSummaryLines } from '../setup-options.js';

/** `maestro analyze PLAN`: parse and analyse a plan; a readable summary or one JSON document. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('Parse and analyse a plan: streams, roles, waves, critical path, conflicts, estimates')
    .argument('<plan>', 'the Markdown plan')
    .option('--repo <dir>', 'repository the plan refers to (default: the git repository around the plan)')
    .option(
      '--max-parallel <n>',
      'most streams running at once (default: the plan’s setting, else 10)',
      parsePositiveInt('--max-parallel'),
    )
    .option('--split', 'split a phase whose files fall into separate role areas into parallel streams')
    .option('--model <model>', 'model to estimate with for every stream (default: each role’s model)')
    .option('--json', 'print one JSON document on stdout instead of the summary')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro analyze plan.md
  $ maestro analyze docs/plan.md --repo . --max-parallel 4
  $ maestro analyze plan.md --json | jq '.waves'

Exit codes: 0 analysed (warnings allowed) · 1 the plan has errors · 2 usage error`,
    )
    .action(async (planPath, options) => {
      const analysis = await loadAnalysis(planPath, options);
      const setup = analysis.repo === null ? null : await runSetupFor(analysis.repo, analysis, []);
      process.stdout.write(
        options.json === true
          ? `${JSON.stringify(setup === null ? analysis : { ...analysis, setup }, null, 2)}\n`
          : formatAnalysisSummary(
              analysis,
              setup === null || analysis.repo === null ? [] : await setupSummaryLines(setup, analysis.repo),
            ),
      );
      process.exitCode = planErrors(analysis).length > 0 ? ExitCode.failure : ExitCode.ok;
    });
}
