// After tsc:
// 1. Compiles the built-in roles (roles/*.md) to dist/builtin-roles.json, so a run reads JSON instead
//    of loading a YAML parser.
// 2. Bundles the CLI into one file, dist/bin/maestro.js, and makes dist/cli.js (the bins) load it:
//    Node 20 has no compile cache, and resolving and compiling ~100 separate ES modules cost
//    ~0.13 s of every start. zod, yaml and picomatch stay outside (loaded on first use through
//    require), and so do bullmq and ioredis (loaded only with --redis and by `maestro worker`); so do
//    the other dist/ modules, which the demo agent and the benchmarks use directly.
import { chmodSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const dist = new URL('../dist/', import.meta.url);

const { builtinRolesDir, compiledBuiltinRolesFile, parseBuiltinRoles } = await import(
  new URL('analyze/roles-loader.js', dist).href
);
writeFileSync(compiledBuiltinRolesFile, `${JSON.stringify(await parseBuiltinRoles(builtinRolesDir))}\n`);

await build({
  entryPoints: [new URL('cli.js', dist).pathname],
  outfile: new URL('bin/maestro.js', dist).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Bundled CommonJS dependencies (commander) call require for Node's built-ins.
  banner: {
    js: "import { createRequire as __maestroRequire } from 'node:module';\nconst require = __maestroRequire(import.meta.url);",
  },
  // Every package module locating a file by its URL sits two folders below the package root
  // (`dist/x/`), and so does the bundle, so their relative paths stay right (see src/cli/assets.ts).
  external: ['zod', 'yaml', 'picomatch', 'bullmq', 'ioredis'],
  logLevel: 'warning',
});
writeFileSync(
  new URL('cli.js', dist),
  "#!/usr/bin/env node\n// The bins' entry: the bundled CLI (see scripts/postbuild.mjs).\nimport './bin/maestro.js';\n",
);
chmodSync(new URL('cli.js', dist), 0o755);
