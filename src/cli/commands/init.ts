import type { Command } from '@commander-js/extra-typings';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initTemplate } from '../assets.js';
import { CliError } from '../errors.js';

/** `maestro init [FILE]`: writes a commented example plan that shows every construct. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Write a commented example plan that shows every construct Maestro understands')
    .argument('[file]', 'where to write it', 'plan.md')
    .option('--force', 'overwrite an existing file')
    .addHelpText(
      'after',
      `
Examples:
  $ maestro init                 # writes ./plan.md
  $ maestro init docs/plan.md
  $ maestro analyze plan.md      # then see what Maestro understood`,
    )
    .action(async (file, options) => {
      const text = await readFile(initTemplate, 'utf8');
      try {
        // `maestro init docs/plan.md` in a repository without docs/ yet.
        await mkdir(path.dirname(path.resolve(file)), { recursive: true });
        await writeFile(file, text, { flag: options.force === true ? 'w' : 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new CliError(
            `${file} already exists; pass --force to overwrite it, or give another file name`,
          );
        }
        throw new CliError(`cannot write ${file}: ${(error as Error).message}`);
      }
      process.stdout.write(`Wrote ${file}. Next: maestro analyze ${file}\n`);
    });
}
