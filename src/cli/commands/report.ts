import { Option, type Command } from '@commander-js/extra-typings';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findRepoWithRuns, loadRunReport, resolveRunDir } from '../../report/load.js';
import { renderHtml } from '../../report/html.js';
import { renderJson } from '../../report/json.js';
import { renderMarkdown } from '../../report/markdown.js';
import { CliError } from '../errors.js';

/** Report formats `maestro report` can write. */
const formats = ['md', 'json', 'html'] as const;

/** `maestro report [RUN]`: a run's report as Markdown, JSON or a self-contained HTML page. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Report on a run: per-stream status, files, fixes, validation, timing, tokens and cost')
    .argument('[run]', 'run id or run directory (default: the latest run)')
    .addOption(new Option('--format <format>', 'output format').choices(formats).default('md' as const))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--repo <dir>', 'repository the run belongs to (default: nearest with .maestro/runs)')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro report                                   # latest run, Markdown on stdout
  $ maestro report --format html --out report.html   # timeline, dependency graph and tables
  $ maestro report 20261128-101500-ab12 --format json`,
    )
    .action(async (run, options) => {
      const repo = findRepoWithRuns(options.repo ?? process.cwd());
      const lookup = await resolveRunDir(repo, run);
      if (!lookup.ok) throw new CliError(lookup.message);
      const report = await loadRunReport(lookup.dir);
      if (report === null) {
        throw new CliError(`${lookup.dir} has no events.jsonl; is it a Maestro run directory?`);
      }
      const out = options.out;
      // Links to completion reports are relative to where the report is read from.
      const linkPrefix = path.relative(
        out === undefined ? process.cwd() : path.dirname(path.resolve(out)),
        lookup.dir,
      );
      const text =
        options.format === 'json'
          ? renderJson(report)
          : options.format === 'html'
            ? renderHtml(report, { linkPrefix: linkPrefix.split(path.sep).join('/') })
            : renderMarkdown(report, { linkPrefix: linkPrefix.split(path.sep).join('/') });
      if (out === undefined) {
        process.stdout.write(text);
        return;
      }
      try {
        await mkdir(path.dirname(path.resolve(out)), { recursive: true });
        await writeFile(out, text);
      } catch (error) {
        throw new CliError(`cannot write ${out}: ${(error as Error).message}`);
      }
      process.stderr.write(`Wrote ${out}\n`);
    });
}
