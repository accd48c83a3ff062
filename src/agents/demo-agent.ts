#!/usr/bin/env node
/**
 * The demo agent: a deterministic stand-in for a coding agent, shipped so the README's quick start runs the
 * whole pipeline with no account. It follows the `command` contract (MAESTRO_* environment, cwd = the
 * stream's worktree): it creates each owned file with a header naming the stream, or appends a marker to an
 * existing one; a glob edits the files that already match it. Then it writes a completion report.
 * Self-contained on purpose (only node: imports), so it runs as a plain script with `process.execPath`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, basename, join, relative, sep } from 'node:path';

/** How one file was touched. */
export interface DemoChange {
  readonly path: string;
  readonly action: 'created' | 'edited' | 'unchanged' | 'skipped';
  readonly why?: string;
}

/** What the demo agent needs to know about its stream. */
export interface DemoStream {
  readonly runId: string;
  readonly streamId: string;
  readonly title: string;
  readonly role: string;
  readonly files: readonly string[];
}

type CommentStyle = readonly [open: string, close: string] | 'json' | 'none';

const LINE = (open: string): CommentStyle => [open, ''];
const styles: Record<string, CommentStyle> = {
  '.ts': LINE('// '),
  '.tsx': LINE('// '),
  '.js': LINE('// '),
  '.jsx': LINE('// '),
  '.mjs': LINE('// '),
  '.cjs': LINE('// '),
  '.go': LINE('// '),
  '.rs': LINE('// '),
  '.java': LINE('// '),
  '.kt': LINE('// '),
  '.c': LINE('// '),
  '.h': LINE('// '),
  '.cc': LINE('// '),
  '.cpp': LINE('// '),
  '.hpp': LINE('// '),
  '.cs': LINE('// '),
  '.swift': LINE('// '),
  '.scala': LINE('// '),
  '.php': LINE('// '),
  '.dart': LINE('// '),
  '.py': LINE('# '),
  '.rb': LINE('# '),
  '.sh': LINE('# '),
  '.bash': LINE('# '),
  '.yml': LINE('# '),
  '.yaml': LINE('# '),
  '.toml': LINE('# '),
  '.r': LINE('# '),
  '.pl': LINE('# '),
  '.ex': LINE('# '),
  '.exs': LINE('# '),
  '.tf': LINE('# '),
  '.conf': LINE('# '),
  '.ini': LINE('; '),
  '.env': LINE('# '),
  '.sql': LINE('-- '),
  '.lua': LINE('-- '),
  '.hs': LINE('-- '),
  '.html': ['<!-- ', ' -->'],
  '.xml': ['<!-- ', ' -->'],
  '.svg': ['<!-- ', ' -->'],
  '.vue': ['<!-- ', ' -->'],
  '.md': ['<!-- ', ' -->'],
  '.css': ['/* ', ' */'],
  '.scss': ['/* ', ' */'],
  '.less': ['/* ', ' */'],
  '.json': 'json',
  '.txt': 'none',
};
const byName: Record<string, CommentStyle> = {
  Makefile: LINE('# '),
  Dockerfile: LINE('# '),
  '.gitignore': LINE('# '),
  '.dockerignore': LINE('# '),
};

function styleFor(path: string): CommentStyle {
  return byName[basename(path)] ?? styles[extname(path).toLowerCase()] ?? 'none';
}

function comment(style: CommentStyle, text: string): string {
  if (style === 'json' || style === 'none') return text;
  return `${style[0]}${text}${style[1]}`;
}

/** The marker line the demo agent writes for a stream (deterministic: no dates, no randomness). */
export function demoMarker(stream: DemoStream): string {
  return `maestro demo: stream ${stream.streamId} — ${stream.title} (role ${stream.role})`;
}

/** Content of a newly created owned file. */
export function newFileContent(path: string, stream: DemoStream): string {
  const style = styleFor(path);
  if (style === 'json')
    return `${JSON.stringify({ maestroDemo: { stream: stream.streamId, title: stream.title } }, null, 2)}\n`;
  return `${comment(style, demoMarker(stream))}\n${comment(style, `Created by Maestro's demo agent for ${path}.`)}\n`;
}

/** An existing file with the stream's marker added (unchanged if it is already there). */
export function editedContent(path: string, old: string, stream: DemoStream): string | null {
  const style = styleFor(path);
  if (style === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(old);
    } catch {
      return null;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const next = { ...value, maestroDemo: { stream: stream.streamId, title: stream.title } };
    return `${JSON.stringify(next, null, 2)}\n`;
  }
  const marker = comment(style, demoMarker(stream));
  if (old.includes(marker)) return old;
  return `${old}${old === '' || old.endsWith('\n') ? '' : '\n'}${marker}\n`;
}

const GLOB_CHARS = /[*?[{]/;

/** A minimal glob → RegExp (`**`, `*`, `?`, `{a,b}`, `[...]`), enough for owned-file patterns. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end === -1) re += '\\{';
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map(escape)
          .join('|')})`;
        i = end;
      }
    } else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end === -1) re += '\\[';
      else {
        re += glob.slice(i, end + 1).replace('[!', '[^');
        i = end;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

function escape(s: string): string {
  return s.replace(/[.+^$()|\\\]]/g, '\\$&');
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (entry.name === '.git' || entry.name === 'node_modules' || entry.name === '.maestro') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(relative(root, full).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

/** Applies the demo edits in `root`; returns what happened to each file. */
export function applyDemo(root: string, stream: DemoStream): DemoChange[] {
  const changes: DemoChange[] = [];
  const touch = (path: string): void => {
    const full = join(root, path);
    if (!existsSync(full)) {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, newFileContent(path, stream));
      changes.push({ path, action: 'created' });
      return;
    }
    const old = readFileSync(full, 'utf8');
    const next = editedContent(path, old, stream);
    if (next === null) changes.push({ path, action: 'skipped', why: 'not a JSON object' });
    else if (next === old) changes.push({ path, action: 'unchanged' });
    else {
      writeFileSync(full, next);
      changes.push({ path, action: 'edited' });
    }
  };
  let all: string[] | undefined;
  for (const entry of stream.files) {
    const path = entry.replace(/^\.\//, '');
    if (path === '' || path.startsWith('/') || path.split('/').includes('..')) {
      changes.push({ path: entry, action: 'skipped', why: 'outside the worktree' });
    } else if (GLOB_CHARS.test(path)) {
      all ??= listFiles(root);
      const re = globToRegExp(path);
      const matches = all.filter((file) => re.test(file));
      if (matches.length === 0)
        changes.push({ path: entry, action: 'skipped', why: 'glob matches no existing file' });
      for (const match of matches) touch(match);
    } else if (path.endsWith('/')) {
      changes.push({ path: entry, action: 'skipped', why: 'a directory' });
    } else touch(path);
  }
  return changes;
}

/** The completion report the demo agent writes. */
export function demoReport(stream: DemoStream, changes: readonly DemoChange[]): string {
  const lines = [
    `# ${stream.streamId}: ${stream.title} — complete`,
    '',
    `Demo agent (role ${stream.role}, run ${stream.runId}). Files:`,
    '',
    ...changes.map((c) => `- \`${c.path}\`: ${c.action}${c.why === undefined ? '' : ` (${c.why})`}`),
    '',
  ];
  return lines.join('\n');
}

function main(): void {
  const env = process.env;
  const stream: DemoStream = {
    runId: env['MAESTRO_RUN_ID'] ?? 'demo',
    streamId: env['MAESTRO_STREAM_ID'] ?? 'stream',
    title: env['MAESTRO_STREAM_TITLE'] ?? '',
    role: env['MAESTRO_ROLE'] ?? 'agent',
    files: (env['MAESTRO_FILES'] ?? '')
      .split('\n')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
  };
  const changes = applyDemo(process.cwd(), stream);
  for (const change of changes) console.log(`demo: ${change.action} ${change.path}`);
  const report = demoReport(stream, changes);
  const reportFile = env['MAESTRO_REPORT_FILE'];
  if (reportFile !== undefined && reportFile !== '') {
    mkdirSync(dirname(reportFile), { recursive: true });
    writeFileSync(reportFile, report);
  }
  console.log(`demo: done (${changes.length} files)`);
}

// Run when executed, not when imported by tests.
const delayMs = Number(process.env['MAESTRO_DEMO_DELAY_MS'] ?? 0);
if (process.argv[1] !== undefined && import.meta.url.endsWith(basename(process.argv[1]))) {
  setTimeout(main, Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0);
}
