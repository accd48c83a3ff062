/**
 * Reads role files from disk (the only I/O for roles): Maestro's built-in `roles/` folder, then a
 * repository's `.claude/agents/*.md` and `.maestro/roles/*.md`, later ones overriding earlier ones.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../plan/types.js';
import { isDiagnostic } from './diagnostics.js';
import { parseRoleFile } from './roles.js';
import type { RoleDefinition } from './types.js';

/** The package's built-in role folder; the same relative path works from `src/analyze` and `dist/analyze`. */
export const builtinRolesDir = fileURLToPath(new URL('../../roles/', import.meta.url));

/**
 * The built-in roles, parsed at build time (`scripts/postbuild.mjs`), so a run does not load the YAML
 * library just to read Maestro's own files. Absent when running from `src/` (tests): parsed then.
 */
export const compiledBuiltinRolesFile = fileURLToPath(new URL('../builtin-roles.json', import.meta.url));

/** Repository folders searched for user roles, lowest precedence first. */
export const USER_ROLE_DIRS = ['.claude/agents', '.maestro/roles'] as const;

/** Loaded roles by name, plus warnings for user role files that could not be used. */
export interface LoadedRoles {
  readonly roles: Record<string, RoleDefinition>;
  readonly diagnostics: readonly Diagnostic[];
}

/** Markdown files of a folder in name order; a missing folder is simply empty. */
async function markdownFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.md'))
      .map((e) => join(dir, e.name))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Parses the role files of a built-in folder (a broken one is a packaging bug and throws). */
export async function parseBuiltinRoles(dir: string): Promise<Record<string, RoleDefinition>> {
  const roles: Record<string, RoleDefinition> = {};
  for (const file of await markdownFiles(dir)) {
    const role = parseRoleFile(await readFile(file, 'utf8'), file);
    if (isDiagnostic(role)) throw new Error(`built-in role file is broken: ${role.message}`);
    roles[role.name] = { ...role, source: 'builtin' };
  }
  return roles;
}

async function readCompiledRoles(): Promise<Record<string, RoleDefinition> | null> {
  try {
    return JSON.parse(await readFile(compiledBuiltinRolesFile, 'utf8')) as Record<string, RoleDefinition>;
  } catch {
    return null;
  }
}

/**
 * Loads the built-in roles (a broken built-in file is a packaging bug and throws), then, when `repo`
 * is given, user roles that override a built-in of the same name or add new ones. A user file that
 * overrides a built-in without naming a report keeps the built-in's report name.
 */
export async function loadRoles(
  repo: string | null,
  builtinDir: string = builtinRolesDir,
): Promise<LoadedRoles> {
  const roles: Record<string, RoleDefinition> =
    builtinDir === builtinRolesDir
      ? ((await readCompiledRoles()) ?? (await parseBuiltinRoles(builtinDir)))
      : await parseBuiltinRoles(builtinDir);
  if (Object.keys(roles).length === 0) throw new Error(`no built-in roles found in ${builtinDir}`);
  const diagnostics: Diagnostic[] = [];
  if (repo === null) return { roles, diagnostics };
  for (const dir of USER_ROLE_DIRS) {
    for (const file of await markdownFiles(join(repo, dir))) {
      const text = await readFile(file, 'utf8');
      const role = parseRoleFile(text, file);
      if (isDiagnostic(role)) {
        diagnostics.push(role);
        continue;
      }
      const base = roles[role.name];
      // Parse again with the overridden role's report name as the default, so dependants still find it.
      roles[role.name] = base ? (parseRoleFile(text, file, base.reportName) as RoleDefinition) : role;
    }
  }
  return { roles, diagnostics };
}
