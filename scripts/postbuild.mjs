// After tsc: makes the CLI entry executable (tsc does not keep the mode bit) and compiles the built-in
// roles (roles/*.md) to dist/builtin-roles.json, so a run reads JSON instead of loading a YAML parser.
import { chmodSync, writeFileSync } from 'node:fs';

chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);

const { builtinRolesDir, compiledBuiltinRolesFile, parseBuiltinRoles } =
  await import('../dist/analyze/roles-loader.js');
writeFileSync(compiledBuiltinRolesFile, `${JSON.stringify(await parseBuiltinRoles(builtinRolesDir))}\n`);
