/**
 * Libraries loaded on first use, not at start-up. zod and yaml are ~180 ES modules between them and
 * cost ~150 ms to load, yet most runs never need them: zod only when a plan has settings or a project
 * has a config file, yaml only for those and for user role files. `require` (their CommonJS builds)
 * keeps the callers synchronous, as `parsePlan` is. Every caller goes through here, so one copy of
 * each library is ever loaded.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `load`'s value, computed on the first call and kept (for libraries, and schemas built from them). */
export function once<T>(load: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: load() }).v;
}

/** zod (`z`, `ZodError`, `toJSONSchema`…). */
export const loadZod = once(() => require('zod') as typeof import('zod'));

/** The yaml library. */
export const loadYaml = once(() => require('yaml') as typeof import('yaml'));

/** picomatch (CommonJS; its ES wrapper costs three times as much to load). */
export const loadPicomatch = once(() => require('picomatch') as typeof import('picomatch'));
