/**
 * Finding and stopping the processes an agent or a gate leaves behind (Linux `/proc`; elsewhere
 * nothing is found). A process belongs to a run when it is in the agent's process group or its
 * working directory is inside the agent's worktree: `setsid` escapes the group, not the directory.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** One process found in `/proc`. */
interface ProcInfo {
  readonly pid: number;
  readonly pgrp: number;
  readonly state: string;
  readonly cwd: string | null;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // `pid (comm) state ppid pgrp …`: comm may contain spaces and parentheses, so split after the last `)`.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let cwd: string | null = null;
    try {
      cwd = readlinkSync(`/proc/${String(pid)}/cwd`);
    } catch {
      // Not ours to inspect, or a zombie.
    }
    return { pid, state: fields[0] ?? '?', pgrp: Number(fields[2]), cwd };
  } catch {
    return null; // gone
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return [];
  }
}

function isUnder(cwd: string | null, root: string): boolean {
  return cwd !== null && `${cwd}${path.sep}`.startsWith(root);
}

/** Pids of live processes whose cwd is `dir` or below it. */
export function processesUnder(dir: string): number[] {
  const root = path.resolve(dir) + path.sep;
  return allPids().filter((pid) => {
    const info = readProc(pid);
    return info !== null && info.state !== 'Z' && isUnder(info.cwd, root);
  });
}

/** Live processes in process group `pgrp` or working under `dir`. */
export function processesOf(pgrp: number | null, dir: string): number[] {
  const root = path.resolve(dir) + path.sep;
  return allPids().filter((pid) => {
    const info = readProc(pid);
    return info !== null && info.state !== 'Z' && (info.pgrp === pgrp || isUnder(info.cwd, root));
  });
}

/** A short description of a process for messages: its command line, clipped. */
export function describeProcess(pid: number): string {
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .join(' ');
  } catch {
    // gone
  }
  if (cmd.length > 80) cmd = `${cmd.slice(0, 79)}…`;
  return cmd === '' ? `pid ${String(pid)}` : `pid ${String(pid)} ${cmd}`;
}

function alive(pid: number): boolean {
  const info = readProc(pid);
  return info !== null && info.state !== 'Z';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone, or not ours.
  }
}

/**
 * Stops everything an agent or gate left running: its process group and every process working under
 * `dir`. SIGTERM, then SIGKILL for what is still alive after `graceMs`. Returns the descriptions of
 * the processes found (empty when nothing was left).
 */
export async function reapProcesses(pgrp: number | null, dir: string, graceMs: number): Promise<string[]> {
  const pids = processesOf(pgrp, dir);
  if (pids.length === 0) return [];
  const described = pids.map(describeProcess);
  if (pgrp !== null) signal(-pgrp, 'SIGTERM');
  for (const pid of pids) signal(pid, 'SIGTERM');
  // Polling, not a fixed sleep: most processes are gone within milliseconds of SIGTERM.
  const deadline = performance.now() + graceMs;
  while (pids.some(alive) && performance.now() < deadline) await delay(25);
  if (pgrp !== null) signal(-pgrp, 'SIGKILL');
  for (const pid of pids) if (alive(pid)) signal(pid, 'SIGKILL');
  return described;
}

/** "left 2 background processes; stopped (pid 12 sleep 1000, …)". */
export function reapedNotice(described: readonly string[]): string {
  const n = described.length;
  return `left ${String(n)} background process${n === 1 ? '' : 'es'}; stopped (${described.slice(0, 5).join('; ')}${n > 5 ? '; …' : ''})`;
}
