/**
 * Weighted scheduling over a `Dag`: critical path, waves, the dynamic start order and makespan
 * simulators. Weights are minutes (or any non-negative duration). All functions expect an acyclic
 * graph (`breakCycles` first) and throw on a cycle, because that is a caller bug.
 */
import { at, requireAcyclic, type Dag } from './dag.js';
import { MinHeap } from './heap.js';

/** Duration (or weight) of a node, by id. Must be finite and non-negative. */
export type Weight = (id: string) => number;

function weightsOf(dag: Dag, weight: Weight): number[] {
  return dag.ids.map((id) => {
    const w = weight(id);
    if (!Number.isFinite(w) || w < 0)
      throw new Error(`graph: weight of "${id}" must be finite and >= 0, got ${w}`);
    return w;
  });
}

/** Longest path from each node to the end of the graph, counting the node's own weight (by index). */
function remainingByIndex(dag: Dag, weights: readonly number[]): number[] {
  const order = requireAcyclic(dag);
  const remaining = new Array<number>(dag.ids.length).fill(0);
  for (let k = order.length - 1; k >= 0; k--) {
    const v = at(order, k);
    let longest = 0;
    for (const w of at(dag.dependents, v)) longest = Math.max(longest, at(remaining, w));
    remaining[v] = at(weights, v) + longest;
  }
  return remaining;
}

/** Critical-path length still ahead of each node, its own weight included (the scheduling priority). */
export function remainingCriticalPath(dag: Dag, weight: Weight): Map<string, number> {
  const remaining = remainingByIndex(dag, weightsOf(dag, weight));
  return new Map(dag.ids.map((id, i) => [id, at(remaining, i)]));
}

/** The heaviest chain of nodes (ties go to the earlier node in document order) and its total weight. */
export function criticalPath(dag: Dag, weight: Weight): { path: string[]; length: number } {
  const remaining = remainingByIndex(dag, weightsOf(dag, weight));
  if (remaining.length === 0) return { path: [], length: 0 };
  // Only nodes without dependencies start a longest path (weights are >= 0); take the heaviest, earliest.
  let best = -1;
  remaining.forEach((r, i) => {
    if (at(dag.deps, i).length === 0 && (best === -1 || r > at(remaining, best))) best = i;
  });
  const path = [at(dag.ids, best)];
  for (let v = best; ;) {
    let next = -1;
    for (const w of at(dag.dependents, v))
      if (next === -1 || at(remaining, w) > at(remaining, next)) next = w;
    if (next === -1) break;
    path.push(at(dag.ids, next));
    v = next;
  }
  return { path, length: at(remaining, best) };
}

/** Orders node indices by critical path remaining (longest first), then document order. */
function byPriority(remaining: readonly number[]): (a: number, b: number) => boolean {
  return (a, b) => at(remaining, a) > at(remaining, b) || (at(remaining, a) === at(remaining, b) && a < b);
}

function checkSlots(slots: number, what: string): void {
  if (!(slots === Infinity || (Number.isInteger(slots) && slots >= 1))) {
    throw new Error(`graph: ${what} must be a positive integer, got ${slots}`);
  }
}

/**
 * Topological levels (a node's level is one more than its deepest dependency), each sorted
 * critical-path-first then by document order, and split into waves of at most `maxParallel`.
 * Running wave after wave with a barrier between them respects every dependency.
 */
export function waves(dag: Dag, maxParallel: number, weight: Weight = () => 1): string[][] {
  checkSlots(maxParallel, 'maxParallel');
  const order = requireAcyclic(dag);
  const remaining = remainingByIndex(dag, weightsOf(dag, weight));
  const level = new Array<number>(dag.ids.length).fill(0);
  const levels: number[][] = [];
  for (const v of order) {
    let l = 0;
    for (const d of at(dag.deps, v)) l = Math.max(l, at(level, d) + 1);
    level[v] = l;
    (levels[l] ??= []).push(v);
  }
  const first = byPriority(remaining);
  const result: string[][] = [];
  for (const members of levels) {
    members.sort((a, b) => (first(a, b) ? -1 : first(b, a) ? 1 : 0));
    for (let i = 0; i < members.length; i += maxParallel) {
      result.push(members.slice(i, i + maxParallel).map((v) => at(dag.ids, v)));
    }
  }
  return result;
}

/** One node's place in a simulated run. */
export interface ScheduledRun {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  /** 0-based slot (parallel lane) the node ran in. */
  readonly slot: number;
}

/** A simulated run: total wall time and each node's run, in start order. */
export interface Schedule {
  readonly makespan: number;
  readonly runs: readonly ScheduledRun[];
}

/**
 * Dynamic list scheduling: whenever a slot is free, start the ready node with the longest critical
 * path remaining (then document order) — the nx tasks-runner policy. Event-driven, O((V + E) log V).
 */
export function simulateDynamic(dag: Dag, duration: Weight, slots: number): Schedule {
  checkSlots(slots, 'slots');
  const durations = weightsOf(dag, duration);
  const remaining = remainingByIndex(dag, durations);
  const pending = dag.deps.map((list) => list.length);
  const ready = new MinHeap<number>(byPriority(remaining));
  pending.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  interface Running {
    readonly node: number;
    readonly end: number;
    readonly slot: number;
  }
  const running = new MinHeap<Running>((a, b) => a.end < b.end || (a.end === b.end && a.node < b.node));
  const freeSlots = new MinHeap<number>((a, b) => a < b);
  let nextSlot = 0;
  const runs: ScheduledRun[] = [];
  let now = 0;
  for (;;) {
    while (running.size < slots && ready.size > 0) {
      const node = ready.pop() ?? -1;
      const slot = freeSlots.pop() ?? nextSlot++;
      const end = now + at(durations, node);
      running.push({ node, end, slot });
      runs.push({ id: at(dag.ids, node), start: now, end, slot });
    }
    const done = running.pop();
    if (!done) break;
    now = done.end;
    // Finish everything ending at the same instant before starting more, so priorities see all ready nodes.
    const finished = [done];
    while (running.peek()?.end === now) finished.push(running.pop() ?? done);
    for (const f of finished) {
      freeSlots.push(f.slot);
      for (const w of at(dag.dependents, f.node)) {
        const left = at(pending, w) - 1;
        pending[w] = left;
        if (left === 0) ready.push(w);
      }
    }
  }
  if (runs.length !== dag.ids.length)
    throw new Error('graph: expected an acyclic graph; call breakCycles first');
  return { makespan: now, runs };
}

/** The order a dynamic scheduler with `slots` lanes would start nodes in (critical path first). */
export function startOrder(dag: Dag, duration: Weight, slots = Infinity): string[] {
  return simulateDynamic(dag, duration, slots).runs.map((r) => r.id);
}

/** Wall time running one node at a time: the sum of all durations. */
export function simulateSequential(dag: Dag, duration: Weight): number {
  return weightsOf(dag, duration).reduce((sum, d) => sum + d, 0);
}

/** Wall time running wave after wave with a barrier between them: the sum of each wave's longest node. */
export function simulateWaves(waveList: readonly (readonly string[])[], duration: Weight): number {
  let total = 0;
  for (const wave of waveList) {
    let longest = 0;
    for (const id of wave) {
      const d = duration(id);
      if (!Number.isFinite(d) || d < 0) throw new Error(`graph: duration of "${id}" must be finite and >= 0`);
      longest = Math.max(longest, d);
    }
    total += longest;
  }
  return total;
}
