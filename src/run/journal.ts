/**
 * The run directory on disk: `<repo>/.maestro/runs/<run-id>/` (worktrees live elsewhere: `worktrees.ts`) with the append-only journal
 * (`events.jsonl`; state-changing lines are fdatasync'd as they are appended, progress lines such as
 * agent output are not), `state.json` (a cache of the journal, written atomically: temp file + rename),
 * the saved analysis and options, and per stream its prompt, agent log and completion report.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { redactDeep } from '../util/redact.js';
import { applyEvent } from './state.js';
import type { RunEvent, RunState } from './types.js';
import { worktreeRootFile, worktreeRootOf } from './worktrees.js';

/** `<repo>/.maestro` */
export function maestroDir(repo: string): string {
  return path.join(repo, '.maestro');
}

/** `<repo>/.maestro/runs` */
export function runsDir(repo: string): string {
  return path.join(maestroDir(repo), 'runs');
}

/** Paths inside one run's directory. */
export interface RunPaths {
  readonly dir: string;
  readonly journal: string;
  readonly state: string;
  readonly analysis: string;
  readonly options: string;
  /** The run's worktree root, outside the user's checkout (see `worktrees.ts`). */
  readonly worktrees: string;
  /** The file in the run directory that records `worktrees`. */
  readonly worktreesFile: string;
  readonly integrationWorktree: string;
  /** Written by `maestro abort` before it stops a live run, so the run ends as aborted, not resumable. */
  readonly abortRequest: string;
  streamDir(streamId: string): string;
  streamWorktree(streamId: string): string;
}

/** Where a run keeps its files. */
export function runPaths(repo: string, runId: string): RunPaths {
  const dir = path.join(runsDir(repo), runId);
  const worktrees = worktreeRootOf(dir, repo, runId);
  return {
    dir,
    journal: path.join(dir, 'events.jsonl'),
    state: path.join(dir, 'state.json'),
    analysis: path.join(dir, 'analysis.json'),
    options: path.join(dir, 'options.json'),
    worktrees,
    worktreesFile: path.join(dir, worktreeRootFile),
    integrationWorktree: path.join(worktrees, '_integration'),
    abortRequest: path.join(dir, 'abort-requested'),
    streamDir: (id) => path.join(dir, 'streams', id),
    streamWorktree: (id) => path.join(worktrees, id),
  };
}

/** A new run id: sortable by time, unique enough for one repository. */
export function newRunId(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const rand = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${stamp}-${rand}`;
}

/** Run ids in a repository, oldest first. */
export async function listRuns(repo: string): Promise<string[]> {
  try {
    const entries = await readdir(runsDir(repo), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * `MAESTRO_CRASH_AFTER_EVENTS=N`: the process kills itself (SIGKILL) right after its Nth synced journal
 * line. Only for tests that crash a run at every journal-event boundary and resume it.
 */
const crashAfter = /^\d+$/.test(process.env.MAESTRO_CRASH_AFTER_EVENTS ?? '')
  ? Number(process.env.MAESTRO_CRASH_AFTER_EVENTS)
  : null;
let syncedAppends = 0;

/**
 * Appends events to `events.jsonl`, one JSON line each. By default a line is synced to disk before
 * `append` returns; `append(event, false)` (progress that changes no state) is not, and reaches the
 * disk with the next synced line or `close`.
 */
export class Journal {
  private fd: number | null;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
  }

  /** Appends one event; `sync` false skips the fsync (for high-volume, non-state events). */
  append(event: RunEvent, sync = true): void {
    if (this.fd === null) return;
    // Whoever appends (the engine, a queue worker), no secret reaches the disk.
    writeSync(this.fd, `${JSON.stringify(redactDeep(event))}\n`);
    // fdatasync: an append's data and new length reach the disk; timestamps need not (fdatasync(2)).
    if (sync) fdatasyncSync(this.fd);
    if (crashAfter !== null && sync && ++syncedAppends >= crashAfter) {
      // Fault injection for the crash tests: die like `kill -9` right after this journal line.
      process.kill(process.pid, 'SIGKILL');
    }
  }

  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Reads the journal; a torn last line (crash mid-write) is ignored. */
export async function readJournal(file: string): Promise<RunEvent[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const events: RunEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch {
      // Only the last line can be torn; anything unparsable is skipped.
    }
  }
  return events;
}

/** Writes a file atomically: a temp file in the same directory, fsync'd, then renamed over. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${String(process.pid)}.tmp`;
  await writeFile(tmp, text, { flush: true });
  await rename(tmp, file);
}

/**
 * Saves `state.json` (the one writer of it): temp file + rename, so readers never see half a file;
 * synchronous, so two saves from one process never interleave.
 */
export function writeState(paths: RunPaths, state: RunState): void {
  const tmp = `${paths.state}.${String(process.pid)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(redactDeep(state), null, 2)}\n`);
  renameSync(tmp, paths.state);
}

/**
 * Appends `event` to the journal of a run that no process is running (the caller holds the run lock,
 * so it is the journal's one writer for now), synced, and saves the state it leads to.
 */
export function appendToIdleRun(paths: RunPaths, state: RunState, event: RunEvent): RunState | null {
  const journal = new Journal(paths.journal);
  try {
    journal.append(event);
  } finally {
    journal.close();
  }
  const next = applyEvent(state, event);
  if (next !== null) writeState(paths, next);
  return next;
}

/** Creates the run directory and records where its worktrees go. */
export async function createRunDir(paths: RunPaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true });
  await mkdir(path.join(paths.dir, 'streams'), { recursive: true });
  await writeFile(paths.worktreesFile, `${paths.worktrees}\n`);
}

/** Reads a JSON file written by Maestro. */
export async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown;
}
