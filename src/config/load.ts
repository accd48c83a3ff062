/**
 * Finds and reads `maestro.config.json` / `maestro.config.yaml` (or `.yml`), searching upward from a
 * directory. Problems are `ConfigError`s whose message names the file and line, like a compiler.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import type { MaestroConfig } from './schema.js';
import { configSchema } from './schema.js';
import { loadYaml, loadZod } from '../util/lazy.js';

/** Config file names, in the order they are looked for in each directory. */
export const configFileNames = ['maestro.config.json', 'maestro.config.yaml', 'maestro.config.yml'] as const;

/** An invalid or unreadable configuration file (the CLI prints it as `maestro: <message>`, exit code 2). */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The config file in the nearest directory at or above `startDir`, or null. Two in one directory is an error. */
export async function findConfigFile(startDir: string): Promise<string | null> {
  let dir = path.resolve(startDir);
  for (;;) {
    const found: string[] = [];
    for (const name of configFileNames) {
      const candidate = path.join(dir, name);
      if (await isFile(candidate)) found.push(candidate);
    }
    const [first, second] = found;
    if (second !== undefined) {
      throw new ConfigError(
        `${dir} has both ${path.basename(first ?? '')} and ${path.basename(second)}; keep one of them`,
        second,
      );
    }
    if (first !== undefined) return first;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before.at(-1)?.length ?? 0) + 1 };
}

/** Parses JSON, turning V8's "at position N" into `file:line:col`. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    const where = position === undefined ? file : `${file}:${lineCol(text, Number(position)).line}`;
    throw new ConfigError(`${where}: invalid JSON: ${message}`, file);
  }
}

/** Parses YAML; the yaml library reports the line and column of the first error. */
function parseYaml(text: string, file: string): unknown {
  const { parseDocument } = loadYaml();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [error] = doc.errors;
  if (error !== undefined) {
    const pos = error.linePos?.[0];
    const where = pos === undefined ? file : `${file}:${pos.line}:${pos.col}`;
    throw new ConfigError(`${where}: invalid YAML: ${error.message.split('\n')[0] ?? error.message}`, file);
  }
  return doc.toJS() as unknown;
}

/** The line of the value at `issuePath` in the file (JSON is read as YAML for positions), if found. */
function lineOf(text: string, issuePath: readonly PropertyKey[]): number | null {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = loadYaml();
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  let node: unknown = doc.contents;
  let found: YamlNode | null = doc.contents;
  for (const key of issuePath) {
    if (isMap(node) || isSeq(node)) {
      const next: unknown = node.get(typeof key === 'symbol' ? String(key) : key, true);
      if (next === undefined) break;
      node = next;
      if (isScalar(next) || isMap(next) || isSeq(next)) found = next;
    } else break;
  }
  const offset = found?.range?.[0];
  return offset === undefined ? null : counter.linePos(offset).line;
}

/** Formats schema problems one per line, each with its place in the file. */
function describeIssues(error: z.ZodError, text: string, file: string): string {
  const { z } = loadZod();
  return error.issues
    .map((issue) => {
      const line = lineOf(text, issue.path);
      const where = line === null ? file : `${file}:${line}`;
      return `${where}: ${z
        .prettifyError(new z.ZodError([issue]))
        .replace(/^✖ /, '')
        .replace(/\n\s*→ /, ' → ')}`;
    })
    .join('\n');
}

/** Parses and validates configuration text; `file` decides the format and names the errors. */
export function parseConfig(text: string, file: string): MaestroConfig {
  const raw = file.endsWith('.json') ? parseJson(text, file) : parseYaml(text, file);
  // An empty YAML file is a valid, empty configuration.
  const result = configSchema().safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(`invalid configuration\n${describeIssues(result.error, text, file)}`, file);
  }
  return result.data;
}

/** Finds the nearest config file at or above `startDir` and reads it; null when there is none. */
export async function loadConfig(startDir: string): Promise<{ config: MaestroConfig; path: string } | null> {
  const file = await findConfigFile(startDir);
  if (file === null) return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, file);
  }
  return { config: parseConfig(text, file), path: file };
}
