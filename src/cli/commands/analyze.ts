import type { Command } from '@commander-js/extra-typings';
import { formatAnalysisSummary } from '../../ui/analysis-summary.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { assistPrompt, readingChanges } from '../../analyze/assist.js';
import { ASSIST_AGENTS, askAgent, type AssistAgent, type AssistOutcome } from '../assist.js';
import { CliError, parsePositiveInt } from '../errors.js';
import { setOutcome } from '../outcome.js';
import { loadAnalysis, planErrors } from '../load-analysis.js';
import { runSetupFor, setupSummaryLines } from '../setup-options.js';

/** An assisted reading's outcome with what it changed. */
type AssistReport = AssistOutcome & { readonly changes: readonly string[] };

/** "Assisted reading (claude, $0.0040, 400 in / 80 out tokens): 2 changes" and the changes. */
function formatAssist(assist: AssistReport): string {
  const { cost } = assist;
  const money = cost.costUsd === null ? 'cost not reported' : `$${cost.costUsd.toFixed(4)}`;
  const head = `Assisted reading (${assist.agent}, ${money}, ${cost.inputTokens} in / ${cost.outputTokens} out tokens)`;
  if (!assist.ok)
    return `${head}: failed, the rule-based reading is kept.\n  ${assist.error.replace(/\n/g, '\n  ')}\n\n`;
  if (assist.changes.length === 0) return `${head}: agrees with the rule-based reading.\n\n`;
  return `${head}: ${assist.changes.length} change${assist.changes.length === 1 ? '' : 's'} merged over the rule-based reading:\n${assist.changes.map((c) => `  ${c}`).join('\n')}\n\n`;
}

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
    .option(
      '--assist',
      'also ask an agent CLI for its reading of the plan (costs tokens; never on by default) and merge it over the rule-based one',
    )
    .option('--agent <name>', 'agent for --assist: claude, codex or gemini (default: claude)')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro analyze plan.md
  $ maestro analyze docs/plan.md --repo . --max-parallel 4
  $ maestro analyze plan.md --json | jq '.waves'
  $ maestro analyze plan.md --json | jq '.plan.reading'        # why the phases and edges are what they are
  $ maestro analyze plan.md --assist --agent claude             # an agent checks the reading; shows what changed

Exit codes: 0 analysed (warnings allowed) · 1 the plan has errors, or --assist got no valid reply · 2 usage error`,
    )
    .action(async (planPath, options) => {
      let analysis = await loadAnalysis(planPath, options);
      let assist: AssistReport | null = null;
      if (options.assist === true) {
        const agent = options.agent ?? 'claude';
        if (!(ASSIST_AGENTS as readonly string[]).includes(agent))
          throw new CliError(`--agent ${agent}: --assist can ask ${ASSIST_AGENTS.join(', ')}`);
        process.stderr.write(`maestro: asking ${agent} for its reading of the plan (this costs tokens)…\n`);
        const text = await readFile(planPath, 'utf8');
        const outcome = await askAgent(agent as AssistAgent, assistPrompt(text, analysis.plan), {
          cwd: path.dirname(path.resolve(planPath)),
        });
        if (outcome.ok) {
          const assisted = await loadAnalysis(planPath, { ...options, planSettings: outcome.settings });
          assist = { ...outcome, changes: readingChanges(analysis.plan, assisted.plan) };
          analysis = assisted;
        } else {
          assist = { ...outcome, changes: [] };
          process.stderr.write(`maestro: --assist: ${outcome.error}\nThe rule-based reading is kept.\n`);
        }
      }
      const setup = analysis.repo === null ? null : await runSetupFor(analysis.repo, analysis, []);
      const extra = { ...(setup === null ? {} : { setup }), ...(assist === null ? {} : { assist }) };
      process.stdout.write(
        options.json === true
          ? `${JSON.stringify({ ...analysis, ...extra }, null, 2)}\n`
          : (assist === null ? '' : formatAssist(assist)) +
              formatAnalysisSummary(
                analysis,
                setup === null || analysis.repo === null ? [] : await setupSummaryLines(setup, analysis.repo),
              ),
      );
      // An --assist with no valid reply fails the command like plan errors do (exit 1).
      setOutcome({ kind: 'analysed', failed: planErrors(analysis).length > 0 || assist?.ok === false });
    });
}
