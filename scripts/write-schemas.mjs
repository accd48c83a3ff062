// Publishes JSON Schemas generated from the zod schemas in dist/ (`npm run schemas`).
// `--check` exits 1 instead of writing when a committed schema is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';

const root = new URL('../', import.meta.url);

/** Each published schema: the built module, the function that returns it, and where it goes. */
const schemas = [
  {
    module: '../dist/config/schema.js',
    build: 'configJsonSchema',
    file: 'schema/maestro.config.schema.json',
  },
  {
    module: '../dist/plan/settings.js',
    build: 'planSettingsJsonSchema',
    file: 'schema/plan-settings.schema.json',
  },
];

const check = process.argv.includes('--check');
let stale = 0;
for (const { module, build, file } of schemas) {
  const mod = await import(new URL(module, import.meta.url).href);
  const target = new URL(file, root);
  // Formatted like `prettier --write` would, so `npm run lint` accepts the generated file.
  const options = (await resolveConfig(target)) ?? {};
  const text = await format(JSON.stringify(mod[build]()), { ...options, parser: 'json' });
  const current = await readFile(target, 'utf8').catch(() => null);
  if (current === text) continue;
  if (check) {
    console.error(`${file} is out of date; run: npm run build`);
    stale += 1;
  } else {
    await writeFile(target, text);
    console.log(`wrote ${file}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
