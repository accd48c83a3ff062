/**
 * Files shipped in the package that commands read. Every module that locates a package file by its own
 * URL sits two folders below the package root (`src/x/` or `dist/x/`), as does the bundled CLI
 * (`dist/bin/maestro.js`), so one relative path works from all three.
 */
import { fileURLToPath } from 'node:url';

/** The skill (`skill/SKILL.md`). */
export const skillSource = fileURLToPath(new URL('../../skill/SKILL.md', import.meta.url));

/** The commented example plan `maestro init` writes. */
export const initTemplate = fileURLToPath(new URL('../../examples/init-plan.md', import.meta.url));
