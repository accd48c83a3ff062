/**
 * Recycled stream worktrees. A run's stream worktrees are slots (`<worktree root>/slot-1`, `slot-2`,
 * …) rather than one worktree per stream: a stream's attempt takes a free slot, and when the attempt
 * ends (its work committed on its branch) the slot is free for the next stream. Taking a slot points
 * it at the new branch and start commit (`git checkout --force -B`, which rewrites only the files that
 * differ) and removes untracked files, but keeps ignored ones: `node_modules`, `.venv`, build caches.
 * So the number of checkouts and setups grows with `--max-parallel`, not with the number of streams,
 * and a slot whose setup files did not change since its last setup needs no setup at all (`ensureSetup`).
 *
 * Which slot is busy is this process's own business (like which child processes run): the journal
 * records the worktree each attempt ran in, and a resumed run finds the slots on disk again.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { addDetachedWorktree, git, GitError, pruneWorktrees, worktreeGitArgs } from '../git/git.js';
import type { Priority } from '../util/priority-lock.js';
import { exists } from '../util/fs.js';

/** A stream worktree slot: its number (1…; 0 is the integration worktree) and directory. */
export interface Slot {
  readonly index: number;
  readonly dir: string;
}

const slotName = /^slot-(\d+)$/;

/** The slots of one worktree root: which exist, which are busy. */
interface RootSlots {
  readonly all: Slot[];
  readonly busy: Set<number>;
  /** Slots being given back (detached and cleaned in the background): free once that ends. */
  readonly releasing: Map<number, Promise<void>>;
}

/** A pool of recycled worktrees per worktree root (one root per run). */
export class WorktreeSlots {
  readonly #roots = new Map<string, Promise<RootSlots>>();
  /** The same, once read (a slot is released synchronously: it was acquired, so its root is read). */
  readonly #resolved = new Map<string, RootSlots>();

  /** The slots under `root` (found on disk the first time: a resumed run reuses them). */
  #slotsOf(root: string): Promise<RootSlots> {
    let found = this.#roots.get(root);
    if (found === undefined) {
      found = readdir(root)
        .then(
          (names) => ({
            all: names
              .map((n) => Number(slotName.exec(n)?.[1] ?? Number.NaN))
              .filter((i) => Number.isInteger(i) && i > 0)
              .sort((a, b) => a - b)
              .map((index) => ({ index, dir: path.join(root, `slot-${String(index)}`) })),
            busy: new Set<number>(),
            releasing: new Map<number, Promise<void>>(),
          }),
          () => ({
            all: [],
            busy: new Set<number>(),
            releasing: new Map<number, Promise<void>>(),
          }),
        )
        .then((slots) => {
          this.#resolved.set(root, slots);
          return slots;
        });
      this.#roots.set(root, found);
    }
    return found;
  }

  /**
   * Takes a free slot under `root`, preferring those `prefer` says yes to (a slot whose setup is
   * current for the attempt's commit), then the lowest number; a new slot when none is free.
   */
  async acquire(
    root: string,
    prefer: (slot: Slot) => Promise<boolean> = () => Promise.resolve(false),
  ): Promise<Slot> {
    const slots = await this.#slotsOf(root);
    const free = slots.all.filter((s) => !slots.busy.has(s.index));
    const preferred = await Promise.all(free.map((s) => prefer(s).catch(() => false)));
    // Chosen and marked busy with no await in between, so two attempts never take the same slot. A
    // slot still being released is taken (and waited for) before a new one is made: a new slot is a
    // checkout and maybe a setup run, a release one or two git commands.
    const isFree = (s: Slot): boolean => !slots.busy.has(s.index);
    const ready = (s: Slot): boolean => isFree(s) && !slots.releasing.has(s.index);
    const stillFree = free.filter((s, i) => preferred[i] === true && isFree(s));
    const chosen =
      stillFree.find(ready) ??
      slots.all.find(ready) ??
      stillFree[0] ??
      slots.all.find(isFree) ??
      this.#newSlot(root, slots);
    slots.busy.add(chosen.index);
    await slots.releasing.get(chosen.index);
    return chosen;
  }

  #newSlot(root: string, slots: RootSlots): Slot {
    let index = 1;
    while (slots.all.some((s) => s.index === index)) index += 1;
    const slot = { index, dir: path.join(root, `slot-${String(index)}`) };
    slots.all.push(slot);
    slots.all.sort((a, b) => a.index - b.index);
    return slot;
  }

  /**
   * Gives a slot back (its branch stays as the attempt left it). The slot is detached, so the branch
   * is checked out nowhere and another slot can take it (a retry), and cleaned of untracked files, in
   * the background: the attempt's commit is what the caller waits for, not this. The slot is free
   * once it is done (`acquire` waits for it); `settle` waits for every release still running.
   */
  release(root: string, slot: Slot): void {
    const slots = this.#resolved.get(root);
    const work = async (): Promise<void> => {
      try {
        const at = await worktreeGitArgs(slot.dir);
        await git(slot.dir, [...at, 'checkout', '--quiet', '--detach']);
        await git(slot.dir, [...at, 'clean', '-fdq']);
        this.#cleanSlots.add(slot.dir);
      } catch {
        // A broken or missing slot: `prepare` checks it out anew (or cleans it) next time.
      } finally {
        slots?.releasing.delete(slot.index);
      }
    };
    // Marked as releasing before the work starts, and no longer busy, in one synchronous step.
    const done = Promise.resolve().then(work);
    slots?.releasing.set(slot.index, done);
    slots?.busy.delete(slot.index);
    this.#releases.add(done);
    void done.finally(() => this.#releases.delete(done));
  }

  readonly #releases = new Set<Promise<void>>();
  /** Slot directories whose release left them clean (no untracked files): `prepare` skips `git clean`. */
  readonly #cleanSlots = new Set<string>();

  /** Waits for the releases still running (no git process may outlive a run or a worker). */
  async settle(): Promise<void> {
    while (this.#releases.size > 0) await Promise.all([...this.#releases]);
  }

  /**
   * Makes `slot` a checkout of `branch`: with `freshFrom`, the branch is first pointed there (a fresh
   * start), else it continues as it is. Untracked files go; ignored ones stay. A slot that is missing
   * or broken (its `.git` removed by an agent) is checked out anew.
   */
  async prepare(
    repo: string,
    slot: Slot,
    branch: string,
    freshFrom: string | null,
    priority: Priority,
  ): Promise<void> {
    // Cleaned when it was released (and nothing has run in it since): no `git clean` now.
    const cleaned = this.#cleanSlots.delete(slot.dir);
    if (await exists(slot.dir)) {
      try {
        const at = await worktreeGitArgs(slot.dir);
        // A merge its last attempt left unresolved (a conflict handed back) is dropped first.
        if (await exists(path.join(at[1] ?? '', 'MERGE_HEAD')))
          await git(slot.dir, [...at, 'reset', '--quiet', '--hard']);
        // --ignore-other-worktrees: a slot left by a crashed process may still hold the branch.
        await git(slot.dir, [
          ...at,
          'checkout',
          '--quiet',
          '--force',
          '--ignore-other-worktrees',
          ...(freshFrom === null ? [branch] : ['-B', branch, freshFrom]),
        ]);
        if (!cleaned) await git(slot.dir, [...at, 'clean', '-fdq']);
        return;
      } catch (error) {
        if (!(error instanceof GitError)) throw error;
        // Checked out anew below.
      }
      await rm(slot.dir, { recursive: true, force: true });
      await pruneWorktrees(repo);
    }
    // Detached first, then the branch: `worktree add -B` refuses a branch another worktree holds.
    const start = freshFrom ?? `refs/heads/${branch}`;
    await addDetachedWorktree(repo, slot.dir, start, priority);
    await git(slot.dir, [
      ...(await worktreeGitArgs(slot.dir)),
      'checkout',
      '--quiet',
      '--ignore-other-worktrees',
      ...(freshFrom === null ? [branch] : ['-B', branch, freshFrom]),
    ]);
  }
}
