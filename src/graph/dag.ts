/**
 * A directed graph over string ids, stored as index arrays so every algorithm here is O(V + E).
 * An edge `a → b` means "b waits for a": `a` is in `b`'s `dependsOn`. Node order is document order,
 * and every tie in this module is broken by it so results are deterministic.
 */
import { MinHeap } from './heap.js';

/** A node as callers describe it: an id and the ids it waits for. */
export interface DagNode {
  readonly id: string;
  readonly dependsOn: readonly string[];
}

/** An immutable graph; `deps[i]` and `dependents[i]` hold node indices (positions in `ids`). */
export interface Dag {
  /** Node ids in document order. */
  readonly ids: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  /** Indices each node waits for, ascending, without duplicates. */
  readonly deps: readonly (readonly number[])[];
  /** Indices of the nodes that wait for each node, ascending, without duplicates. */
  readonly dependents: readonly (readonly number[])[];
}

/** Builds a graph; throws on duplicate ids or unknown dependencies, which callers must filter first. */
export function createDag(nodes: readonly DagNode[]): Dag {
  const ids = nodes.map((n) => n.id);
  const indexOf = new Map<string, number>();
  ids.forEach((id, i) => {
    if (indexOf.has(id)) throw new Error(`createDag: duplicate node id "${id}"`);
    indexOf.set(id, i);
  });
  const deps = nodes.map((node) => {
    const set = new Set<number>();
    for (const dep of node.dependsOn) {
      const d = indexOf.get(dep);
      if (d === undefined) throw new Error(`createDag: "${node.id}" depends on unknown node "${dep}"`);
      set.add(d);
    }
    return [...set].sort((a, b) => a - b);
  });
  return { ids, indexOf, deps, dependents: invert(deps) };
}

/** Builds a graph from index lists directly (used when dropping edges). */
function fromDeps(ids: readonly string[], indexOf: ReadonlyMap<string, number>, deps: number[][]): Dag {
  return { ids, indexOf, deps, dependents: invert(deps) };
}

function invert(deps: readonly (readonly number[])[]): number[][] {
  const dependents: number[][] = deps.map(() => []);
  deps.forEach((list, i) => {
    for (const d of list) at(dependents, d).push(i);
  });
  return dependents;
}

/** Reads an array slot that the algorithm guarantees exists; a miss is a bug. */
export function at<T>(list: readonly T[], i: number): T {
  const value = list[i];
  if (value === undefined) throw new Error(`graph: index ${i} out of range`);
  return value;
}

/**
 * Strongly connected components (Tarjan, iterative so deep chains cannot overflow the stack).
 * Returns the component number of every node.
 */
export function components(dag: Dag): number[] {
  const n = dag.ids.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const comp = new Array<number>(n).fill(-1);
  const stack: number[] = [];
  let counter = 0;
  let compCount = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    // Each frame is [node, next edge position]; we walk along `dependents` (execution direction).
    const frames: [number, number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (frames.length > 0) {
      const frame = at(frames, frames.length - 1);
      const [v, pos] = frame;
      const out = at(dag.dependents, v);
      if (pos < out.length) {
        frame[1] = pos + 1;
        const w = at(out, pos);
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          frames.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(at(low, v), at(index, w));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(at(low, parent[0]), at(low, v));
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop() ?? -1;
          onStack[w] = false;
          comp[w] = compCount;
        } while (w !== v);
        compCount++;
      }
    }
  }
  return comp;
}

/**
 * One cycle per strongly connected component that has one (listing every elementary cycle is
 * exponential, and one per component is enough to tell the user which dependency to remove).
 * Each cycle starts at its earliest node in document order and follows execution order
 * (`[a, b]` means b waits for a and a waits for b); a self-loop is `[a]`. Cycles come in document order.
 */
export function findCycles(dag: Dag): string[][] {
  const comp = components(dag);
  const size = new Map<number, number>();
  for (const c of comp) size.set(c, (size.get(c) ?? 0) + 1);
  const seen = new Set<number>();
  const cycles: string[][] = [];
  dag.ids.forEach((_, start) => {
    const c = at(comp, start);
    if (seen.has(c)) return;
    const selfLoop = at(dag.deps, start).includes(start);
    if (size.get(c) === 1 && !selfLoop) return;
    seen.add(c);
    cycles.push(
      selfLoop ? [at(dag.ids, start)] : shortestCycleThrough(dag, comp, start).map((i) => at(dag.ids, i)),
    );
  });
  return cycles;
}

/** Breadth-first search inside one component from `start` back to itself: the shortest cycle through it. */
function shortestCycleThrough(dag: Dag, comp: readonly number[], start: number): number[] {
  const c = at(comp, start);
  const parent = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = at(queue, head);
    for (const w of at(dag.dependents, v)) {
      if (at(comp, w) !== c) continue;
      if (w === start) {
        const path = [v];
        for (let u = v; u !== start;) {
          u = parent.get(u) ?? start;
          path.push(u);
        }
        return path.reverse();
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error('graph: node in a cyclic component has no cycle');
}

/** Spells a cycle out, closing it: `a → b → c → a`. */
export function formatCycle(cycle: readonly string[], label: (id: string) => string = (id) => id): string {
  const first = cycle[0];
  if (first === undefined) throw new Error('formatCycle: empty cycle');
  return [...cycle, first].map(label).join(' → ');
}

/**
 * The same graph with every cycle broken: inside each cyclic component only the edges that follow
 * document order are kept (self-loops dropped). Lets analysis still produce a schedule for a plan
 * whose cycles it reports as errors.
 */
export function breakCycles(dag: Dag): Dag {
  const comp = components(dag);
  const deps = dag.deps.map((list, i) => list.filter((d) => at(comp, d) !== at(comp, i) || d < i));
  return fromDeps(dag.ids, dag.indexOf, deps);
}

/** The graph with extra edges (`[from, to]`: `to` waits for `from`), e.g. implicit conflict edges. */
export function withEdges(dag: Dag, edges: readonly (readonly [string, string])[]): Dag {
  const deps = dag.deps.map((list) => [...list]);
  for (const [from, to] of edges) {
    const f = dag.indexOf.get(from);
    const t = dag.indexOf.get(to);
    if (f === undefined || t === undefined) throw new Error(`withEdges: unknown edge ${from} → ${to}`);
    const list = at(deps, t);
    if (!list.includes(f)) list.push(f);
  }
  for (const list of deps) list.sort((a, b) => a - b);
  return fromDeps(dag.ids, dag.indexOf, deps);
}

/**
 * Topological order as indices (Kahn's algorithm, earliest document position first among ready
 * nodes), or null when the graph has a cycle.
 */
export function topologicalIndices(dag: Dag): number[] | null {
  const pending = dag.deps.map((list) => list.length);
  const ready = new MinHeap<number>((a, b) => a < b);
  pending.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  const order: number[] = [];
  for (let v = ready.pop(); v !== undefined; v = ready.pop()) {
    order.push(v);
    for (const w of at(dag.dependents, v)) {
      const left = at(pending, w) - 1;
      pending[w] = left;
      if (left === 0) ready.push(w);
    }
  }
  return order.length === dag.ids.length ? order : null;
}

/** Topological order of ids (document order where free), or null when the graph has a cycle. */
export function topologicalOrder(dag: Dag): string[] | null {
  return topologicalIndices(dag)?.map((i) => at(dag.ids, i)) ?? null;
}

/** Like `topologicalIndices`, but a cycle is a bug of the caller (it should have called `breakCycles`). */
export function requireAcyclic(dag: Dag): number[] {
  const order = topologicalIndices(dag);
  if (!order) throw new Error('graph: expected an acyclic graph; call breakCycles first');
  return order;
}

/** True when `to` transitively waits for `from` (a path `from → … → to` exists). */
export function reaches(dag: Dag, from: string, to: string): boolean {
  const f = dag.indexOf.get(from);
  const t = dag.indexOf.get(to);
  if (f === undefined || t === undefined) throw new Error(`reaches: unknown node ${from} or ${to}`);
  if (f === t) return true;
  // Walk backwards from `to` along deps: usually the shorter side in plans, where most edges point back.
  const seen = new Uint8Array(dag.ids.length);
  const stack = [t];
  seen[t] = 1;
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    for (const d of at(dag.deps, v)) {
      if (d === f) return true;
      if (seen[d] === 0) {
        seen[d] = 1;
        stack.push(d);
      }
    }
  }
  return false;
}
