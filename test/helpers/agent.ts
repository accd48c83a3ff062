/**
 * A stand-in agent: a small Node script written into the test's temp dir and driven by a behaviour
 * file, run through `--agent command` (or the `command` backend in-process). It records start/end
 * times and every prompt so tests can check overlap, order and prompt contents without sleeps.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What the stand-in does for one stream (keyed by stream id or title; `*` applies to all). */
export interface AgentBehaviour {
  /** Files to write (path → content); default: every owned non-glob path gets `// <stream>`. */
  readonly write?: Readonly<Record<string, string>>;
  /** Files to write instead when the prompt says it is a retry. */
  readonly writeOnRetry?: Readonly<Record<string, string>>;
  readonly sleepMs?: number;
  /** Wait until this file exists before finishing (then until the clock moves on, so the end is later). */
  readonly waitForFile?: string;
  /** Create this file right after starting (another stream may `waitForFile` it: a handshake). */
  readonly touchOnStart?: string;
  /**
   * Before finishing, wait until the run's journal (`<runsDir>/<run id>/events.jsonl`) holds an event
   * of this type about another stream, e.g. `stream-merged`.
   */
  readonly waitForEvent?: { readonly runsDir: string; readonly type: string };
  readonly exit?: number;
  /** Kill itself with SIGKILL (an agent crash). */
  readonly crash?: boolean;
  /** Print nothing and never exit (for stall timeouts and Ctrl-C). */
  readonly hang?: boolean;
  /** Print this many MiB of output. */
  readonly hugeOutputMiB?: number;
  /** Create this file when done (another stream may `waitForFile` it). */
  readonly touchOnEnd?: string;
  /** Commit its own work with git before exiting. */
  readonly commit?: boolean;
  /**
   * When handed a merge conflict (the prompt asks to resolve it): `keep-both` removes the marker lines
   * of every conflicted file, keeping both sides' lines; `leave` changes nothing. Writes no other file.
   */
  readonly onConflict?: 'keep-both' | 'leave';
}

const script = String.raw`
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
const dir = process.argv[2];
const config = JSON.parse(readFileSync(path.join(dir, 'behaviour.json'), 'utf8'));
const id = process.env.MAESTRO_STREAM_ID;
const title = process.env.MAESTRO_STREAM_TITLE;
const b = { ...(config['*'] ?? {}), ...(config[title] ?? {}), ...(config[id] ?? {}) };
const prompt = readFileSync(process.env.MAESTRO_PROMPT_FILE, 'utf8');
let stdin = '';
try { stdin = readFileSync(0, 'utf8'); } catch {}
const log = (event) => appendFileSync(path.join(dir, 'timeline.jsonl'), JSON.stringify({ stream: id, title, event, t: Date.now(), pid: process.pid, cwd: process.cwd() }) + '\n');
mkdirSync(path.join(dir, 'prompts'), { recursive: true });
let n = 1;
while (existsSync(path.join(dir, 'prompts', id + '-' + n + '.md'))) n++;
writeFileSync(path.join(dir, 'prompts', id + '-' + n + '.md'), prompt);
if (stdin !== prompt) writeFileSync(path.join(dir, 'prompts', id + '-' + n + '.stdin-mismatch'), stdin);
log('start');
if (b.touchOnStart) writeFileSync(b.touchOnStart, '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
if (b.hang) { await new Promise(() => setInterval(() => {}, 1000)); }
if (b.sleepMs) await sleep(b.sleepMs);
if (b.waitForFile) {
  while (!existsSync(b.waitForFile)) await sleep(20);
  // The file's writer logged before writing it: end strictly after that, even within one millisecond.
  const seen = Date.now();
  while (Date.now() <= seen) await sleep(1);
}
if (b.waitForEvent) {
  const journal = path.join(b.waitForEvent.runsDir, process.env.MAESTRO_RUN_ID, 'events.jsonl');
  const seen = () => existsSync(journal) && readFileSync(journal, 'utf8').split('\n').some((l) => {
    try { const e = JSON.parse(l); return e.type === b.waitForEvent.type && e.streamId !== id; } catch { return false; }
  });
  while (!seen()) await sleep(20);
}
if (b.hugeOutputMiB) {
  const line = 'x'.repeat(1023) + '\n';
  for (let i = 0; i < b.hugeOutputMiB * 1024; i++) { if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once('drain', r)); }
}
if (b.crash) { log('crash'); process.kill(process.pid, 'SIGKILL'); }
if (b.onConflict && prompt.includes('resolve these conflicts, keep both intents')) {
  // The paths the prompt names as left with markers (on a worker they are committed, not unmerged).
  const listed = prompt.slice(prompt.indexOf('left conflict markers'), prompt.indexOf('Edit each of these files'));
  const conflicted = [...listed.matchAll(/^- \x60([^\x60]+)\x60/gm)].map((m) => m[1]);
  if (b.onConflict === 'keep-both')
    for (const f of conflicted) writeFileSync(f, readFileSync(f, 'utf8').split('\n').filter((l) => !/^(<{7}|={7}|>{7})( |$)/.test(l)).join('\n'));
  writeFileSync(process.env.MAESTRO_REPORT_FILE, 'REPORT from ' + id + ': resolved ' + conflicted.join(', ') + '\n');
  console.log('resolved ' + id);
  log('end');
  process.exit(0);
}
const retry = prompt.includes('## This is a retry');
const files = (retry && b.writeOnRetry) ? b.writeOnRetry : (b.write ?? Object.fromEntries(process.env.MAESTRO_FILES.split('\n').filter((f) => f && !/[*?[{]/.test(f)).map((f) => [f, '// ' + id + '\n'])));
for (const [f, content] of Object.entries(files)) { mkdirSync(path.dirname(f), { recursive: true }); writeFileSync(f, content); }
if (b.commit) { execFileSync('git', ['add', '-A']); execFileSync('git', ['commit', '-qm', 'agent commit ' + id]); }
writeFileSync(process.env.MAESTRO_REPORT_FILE, 'REPORT from ' + id + ': built ' + Object.keys(files).join(', ') + '\n');
console.log('done ' + id);
log('end');
if (b.touchOnEnd) writeFileSync(b.touchOnEnd, '');
process.exit(b.exit ?? 0);
`;

/** One start/end/crash record written by the stand-in. */
export interface TimelineEntry {
  readonly stream: string;
  readonly title: string;
  readonly event: 'start' | 'end' | 'crash';
  readonly t: number;
  readonly pid: number;
  /** The agent's working directory (its worktree: on which worker, for runs on workers). */
  readonly cwd: string;
}

/** A stand-in agent installed in `dir`; `command` is what to pass as `--agent-command`. */
export interface StandInAgent {
  readonly dir: string;
  readonly command: string;
  setBehaviour(behaviour: Readonly<Record<string, AgentBehaviour>>): void;
  /** Start and end events, in the order they happened. */
  timeline(): TimelineEntry[];
  /** The prompts a stream received, attempt by attempt. */
  prompts(streamId: string): string[];
  /** The stream id the agent saw for a stream title. */
  idOf(title: string): string;
}

/** Writes the stand-in agent into `dir/agent`. */
export function installStandInAgent(
  root: string,
  behaviour: Readonly<Record<string, AgentBehaviour>> = {},
): StandInAgent {
  const dir = path.join(root, 'agent');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'agent.mjs');
  writeFileSync(file, script);
  const setBehaviour = (b: Readonly<Record<string, AgentBehaviour>>) => {
    writeFileSync(path.join(dir, 'behaviour.json'), JSON.stringify(b));
  };
  setBehaviour(behaviour);
  const readTimeline = (): TimelineEntry[] => {
    const f = path.join(dir, 'timeline.jsonl');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as TimelineEntry);
  };
  return {
    dir,
    // exec: the agent is the shell's process, so a crash is seen as a signal, not as exit 137.
    command: `exec node '${file}' '${dir}'`,
    setBehaviour,
    timeline: readTimeline,
    idOf: (title) => {
      const entry = readTimeline().find((e) => e.title === title);
      if (!entry) throw new Error(`no agent ran for "${title}"`);
      return entry.stream;
    },
    prompts: (streamId) => {
      const p = path.join(dir, 'prompts');
      if (!existsSync(p)) return [];
      return readdirSync(p)
        .filter((f) => f.startsWith(`${streamId}-`) && f.endsWith('.md'))
        .sort((a, b) => Number(a.slice(streamId.length + 1, -3)) - Number(b.slice(streamId.length + 1, -3)))
        .map((f) => readFileSync(path.join(p, f), 'utf8'));
    },
  };
}

/** Highest number of agents running at once, from a timeline. */
export function maxOverlap(timeline: readonly { event: string; t: number }[]): number {
  let running = 0;
  let max = 0;
  const points = timeline
    .filter((e) => e.event === 'start' || e.event === 'end' || e.event === 'crash')
    // Ends before starts at the same millisecond: touching intervals do not overlap.
    .sort((a, b) => a.t - b.t || (a.event === 'start' ? 1 : -1));
  for (const e of points) {
    running += e.event === 'start' ? 1 : -1;
    max = Math.max(max, running);
  }
  return max;
}
