/**
 * Analysis: from a parsed plan to streams (what agents run), their roles, file ownership,
 * conflicts, schedule and estimates. Pure: the repository's file list, roles and prices come in
 * as data, loaded by the thin readers beside this file.
 */
import { impliedLockfiles } from './lockfiles.js';
import { posix } from 'node:path';
import { loadPicomatch } from '../util/lazy.js';
import {
  breakCycles,
  createDag,
  criticalPath,
  findCycles,
  formatCycle,
  startOrder,
  waves as toWaves,
  type Dag,
} from '../graph/index.js';
import { reservedPath } from '../plan/paths.js';
import type { Diagnostic, ParseResult, Phase, PlanFile } from '../plan/types.js';
import { where } from './diagnostics.js';
import { ESTIMATE_MODEL, estimatePlan, estimateStream } from './estimate.js';
import type { PriceTable } from './prices.js';
import { inferRole, roleByHint, roleOfPath } from './roles.js';
import type { Analysis, Conflict, RoleDefinition, Stream } from './types.js';

/** Inputs besides the plan. */
export interface AnalyzeOptions {
  /** Most streams running at once; default: the plan's setting, else 10. */
  readonly maxParallel?: number;
  /** Split a phase whose files fall into clearly separate role areas into parallel streams. */
  readonly split?: boolean;
  /** Repository-relative file list for glob expansion; null when there is no repository. */
  readonly repoFiles: readonly string[] | null;
  readonly repo: string | null;
  /** Loaded roles (built-ins plus user overrides), by name. */
  readonly roles: Readonly<Record<string, RoleDefinition>>;
  readonly prices: PriceTable;
  /** Model for every stream, overriding the plan and the roles (the command line's `--model`). */
  readonly model?: string;
  /** Model per role name (the config file's `models`); beats the plan's hints and the role files. */
  readonly roleModels?: Readonly<Record<string, string>>;
  /** Model for every role without a `roleModels` entry (the config file's `model`); beats the plan. */
  readonly projectModel?: string;
  /** Model when nothing names one (or only `inherit`); default the estimate model (Claude's default). */
  readonly defaultModel?: string;
  /**
   * Whether the agent backend can use a model the plan or a role file names; one it cannot (a Claude alias
   * under Codex) falls through to the next choice. Models named by `model`, `roleModels` and `projectModel`
   * are the user's explicit choice and are never filtered.
   */
  readonly acceptsModel?: (model: string) => boolean;
  /** Order streams that share a file (implicit edges); default true. */
  readonly serialiseConflicts?: boolean;
  /**
   * Plan paths the repository's files on disk make unusable, with why (a directory, a symlink out of
   * the repository): found by `refusedOnDisk` (I/O), reported here as errors with the plan's line.
   */
  readonly refusedPaths?: ReadonlyMap<string, string>;
}

/** Default for `maxParallel` when neither the options nor the plan set it. */
export const DEFAULT_MAX_PARALLEL = 10;

/** A stream before estimates and implicit edges. */
interface Draft {
  readonly id: string;
  readonly phase: Phase;
  readonly title: string;
  readonly role: string;
  readonly roleReason: string;
  readonly files: readonly PlanFile[];
}

/** Analyses a parsed plan; expected problems become diagnostics merged with the parser's. */
export function analyzePlan(parsed: ParseResult, options: AnalyzeOptions): Analysis {
  const { plan } = parsed;
  const maxParallel = options.maxParallel ?? plan.settings.maxParallel ?? DEFAULT_MAX_PARALLEL;
  if (!Number.isInteger(maxParallel) || maxParallel < 1) {
    throw new Error(`analyzePlan: maxParallel must be a positive integer, got ${maxParallel}`);
  }
  const diagnostics: Diagnostic[] = [];
  const at = (line: number | undefined): string => where(plan.source, line);
  const report = (
    severity: Diagnostic['severity'],
    code: string,
    line: number | undefined,
    text: string,
  ): void => {
    diagnostics.push({
      severity,
      code,
      message: `${at(line)}${text}`,
      file: plan.source,
      ...(line === undefined ? {} : { line }),
    });
  };

  // 1. Dependencies between phases: drop unknown ones, report cycles in the plan's own terms.
  const phaseIds = new Set(plan.phases.map((p) => p.id));
  // The parser may already have reported (and dropped) unknown dependencies; say it once.
  const parserUnknown = parsed.diagnostics
    .filter((d) => d.code === 'unknown-dependency')
    .map((d) => d.line ?? 0);
  const known = [...phaseIds].slice(0, 10).join(', ') + (phaseIds.size > 10 ? ', …' : '');
  const phaseDeps = new Map<string, string[]>();
  for (const phase of plan.phases) {
    const valid: string[] = [];
    for (const dep of phase.dependsOn) {
      if (phaseIds.has(dep)) valid.push(dep);
      else if (!parserUnknown.some((line) => line >= phase.line && line <= phase.endLine)) {
        report(
          'error',
          'unknown-dependency',
          phase.line,
          `phase "${phase.title}" depends on unknown phase "${dep}"; use one of: ${known}`,
        );
      }
    }
    phaseDeps.set(phase.id, valid);
  }
  const phaseDag = createDag(plan.phases.map((p) => ({ id: p.id, dependsOn: phaseDeps.get(p.id) ?? [] })));
  const lineOf = new Map(plan.phases.map((p) => [p.id, p.line]));
  for (const cycle of findCycles(phaseDag)) {
    const first = cycle[0] ?? '';
    const spelled = formatCycle(cycle, (id) => `Phase ${id}`);
    const fix = cycle.length === 1 ? 'remove the dependency on itself' : 'remove one of these dependencies';
    report('error', 'cycle', lineOf.get(first), `phases form a cycle: ${spelled}; ${fix}`);
  }

  // 2. Paths: anything outside the repository is an error and owned by no one.
  const ownFiles = new Map<string, PlanFile[]>();
  for (const phase of plan.phases) {
    const kept: PlanFile[] = [];
    for (const file of phase.files) {
      const escape = escapesRepo(file.path);
      const reserved = escape === null ? reservedPath(file.path) : null;
      const onDisk = options.refusedPaths?.get(file.path);
      if (escape !== null)
        report(
          'error',
          'path-escapes-repo',
          file.line,
          `"${file.path}" is ${escape}; plan paths must be relative to the repository root`,
        );
      else if (reserved !== null)
        report(
          'error',
          'path-reserved',
          file.line,
          `"${file.path}" is ${reserved}; no stream may own it. List the project files the phase changes instead`,
        );
      else if (onDisk !== undefined)
        report('error', 'path-refused', file.line, `"${file.path}" is ${onDisk}`);
      else kept.push(file);
    }
    ownFiles.set(phase.id, kept);
  }

  // 3. Streams: one per phase, or one per role area with --split.
  const drafts: Draft[] = [];
  const streamsOfPhase = new Map<string, string[]>();
  plan.phases.forEach((phase, index) => {
    const files = ownFiles.get(phase.id) ?? [];
    const base = `s${index + 1}`;
    const groups = options.split === true && !hasRoleHint(phase, options.roles) ? splitByRole(files) : null;
    if (groups) {
      const ids: string[] = [];
      groups.forEach((group, g) => {
        const id = `${base}${letters(g)}`;
        ids.push(id);
        const reason = `split from phase ${phase.id}: ${group.files.length} of ${files.length} files look like ${group.role}`;
        drafts.push({
          id,
          phase,
          title: `${phase.title} (${group.role})`,
          role: group.role,
          roleReason: reason,
          files: group.files,
        });
      });
      streamsOfPhase.set(phase.id, ids);
      return;
    }
    const choice = inferRole(
      files.map((f) => f.path),
      phase.title,
      phase.body,
      phase.hints,
      options.roles,
    );
    if (choice.unknownHint !== undefined) {
      report(
        'warning',
        'unknown-role',
        phase.line,
        `phase "${phase.title}" asks for role "${choice.unknownHint}", which is not defined; using "${choice.role}". Known roles: ${Object.keys(options.roles).sort().join(', ')}`,
      );
    }
    drafts.push({ id: base, phase, title: phase.title, role: choice.role, roleReason: choice.reason, files });
    streamsOfPhase.set(phase.id, [base]);
  });
  const streamDeps = new Map(
    drafts.map((d) => [d.id, (phaseDeps.get(d.phase.id) ?? []).flatMap((p) => streamsOfPhase.get(p) ?? [])]),
  );

  // 4. Globs against the repository. A glob that matches a file the plan lists is not empty: that file
  // exists once its phase has run (the warning's own advice is to list the files to create).
  const expansion = new Map(drafts.map((d) => [d.id, expandFiles(d.files, options.repoFiles)]));
  const listed = drafts.flatMap((d) =>
    d.files.filter((f) => !f.glob && !f.path.endsWith('/')).map((f) => f.path),
  );
  for (const d of drafts) {
    for (const empty of expansion.get(d.id)?.empty ?? []) {
      const isMatch = loadPicomatch()(empty.path.endsWith('/') ? `${empty.path}**` : empty.path, {
        dot: true,
      });
      if (listed.some((path) => isMatch(path))) continue;
      report(
        'warning',
        'glob-matches-nothing',
        empty.line,
        `"${empty.path}" matches no file in the repository; check the pattern or list the files to create`,
      );
    }
  }

  // 5. Conflicts: files claimed by several streams, serialised in document order unless already ordered.
  const serialise = options.serialiseConflicts ?? true;
  const schedule = breakCycles(
    createDag(drafts.map((d) => ({ id: d.id, dependsOn: streamDeps.get(d.id) ?? [] }))),
  );
  const order = new EdgeOrder(schedule);
  const implicit = new Map<string, string[]>(drafts.map((d) => [d.id, []]));
  const conflicts: Conflict[] = [];
  const lineOfStream = new Map(drafts.map((d) => [d.id, d.phase.line]));
  for (const { path, streams } of findConflicts(drafts, expansion)) {
    conflicts.push({ path, streams, resolution: serialise ? 'serialised' : 'reported' });
    for (let j = 1; j < streams.length; j++) {
      // Nearest earlier stream first, so a chain a → b → c is built rather than a fan of edges.
      for (let i = j - 1; i >= 0; i--) {
        const earlier = streams[i] ?? '';
        const later = streams[j] ?? '';
        if (order.ordered(earlier, later)) continue;
        if (serialise) {
          order.add(earlier, later);
          implicit.get(later)?.push(earlier);
        } else {
          const line = lineOfStream.get(later);
          report(
            'warning',
            'file-conflict',
            line,
            `streams ${earlier} and ${later} both change "${path}" and may run at the same time; add a dependency or let Maestro serialise them`,
          );
        }
      }
    }
  }

  // 6. Models, estimates, schedule.
  // Precedence: --model, config per role, config default, the phase's `Model:` hint, the plan's setting,
  // the role file, then the backend's default ('inherit' means "no preference").
  const usable = (m: string | undefined): m is string =>
    m !== undefined && m !== 'inherit' && (options.acceptsModel?.(m) ?? true);
  const fallbackModel = options.defaultModel ?? ESTIMATE_MODEL.defaultModel;
  const defaultModel =
    options.model ?? options.projectModel ?? [plan.settings.model].find(usable) ?? fallbackModel;
  const unpriced = new Set<string>();
  const streams: Stream[] = drafts.map((d) => {
    const explicit = options.model ?? options.roleModels?.[d.role] ?? options.projectModel;
    const model =
      explicit ??
      [d.phase.hints.model, plan.settings.model, options.roles[d.role]?.model].find(usable) ??
      fallbackModel;
    const exp = expansion.get(d.id) ?? { files: [], unexpanded: 0 };
    const { priced, ...estimate } = estimateStream(
      {
        files: exp.files.length,
        unexpandedGlobs: exp.unexpanded,
        validationCommands: d.phase.validation.length,
        model,
      },
      options.prices,
    );
    if (!priced) unpriced.add(model);
    return {
      id: d.id,
      phaseId: d.phase.id,
      title: d.title,
      role: d.role,
      roleReason: d.roleReason,
      files: d.files,
      expandedFiles: exp.files,
      impliedFiles: impliedLockfiles(
        [...new Set([...d.files.filter((f) => !f.glob).map((f) => f.path), ...exp.files])],
        options.repoFiles,
      ),
      dependsOn: streamDeps.get(d.id) ?? [],
      implicitDependsOn: implicit.get(d.id) ?? [],
      criticalFixes: d.phase.criticalFixes,
      validation: d.phase.validation,
      model,
      estimate,
    };
  });
  for (const model of unpriced) {
    report(
      'warning',
      'unknown-price',
      undefined,
      `model "${model}" is not in the price table; its cost is counted as 0. Add it to data/prices.json`,
    );
  }
  const dag = order.toDag();
  const minutesOf = new Map(streams.map((s) => [s.id, s.estimate.minutes]));
  const minutes = (id: string): number => minutesOf.get(id) ?? 0;
  const waveList = toWaves(dag, maxParallel, minutes);
  const roles: Record<string, RoleDefinition> = {};
  for (const s of streams) {
    const role = options.roles[s.role];
    if (role) roles[s.role] = role;
  }

  return {
    plan,
    dependencyRule: plan.dependencyRule,
    streams,
    roles,
    waves: waveList,
    criticalPath: criticalPath(dag, minutes).path,
    startOrder: startOrder(dag, minutes, maxParallel),
    conflicts,
    criticalFixes: plan.criticalFixes,
    estimate: estimatePlan(streams, dag, waveList, maxParallel, defaultModel),
    maxParallel,
    repo: options.repo,
    diagnostics: mergeDiagnostics(parsed.diagnostics, diagnostics),
  };
}

/** Why a plan path is outside the repository, or null when it is inside. */
export function escapesRepo(path: string): string | null {
  if (/^(?:[a-z]:)?[\\/]/i.test(path) || path.startsWith('~')) return 'an absolute path';
  const normal = posix.normalize(path.replace(/\\/g, '/'));
  if (normal === '..' || normal.startsWith('../')) return 'outside the repository';
  return null;
}

/** True when the plan names a known role for the phase: one agent was asked for, so never split it. */
function hasRoleHint(phase: Phase, roles: Readonly<Record<string, RoleDefinition>>): boolean {
  return [phase.hints.role, phase.hints.agent].some(
    (hint) => hint !== undefined && roleByHint(hint, roles) !== null,
  );
}

/** `a`…`z`, then `aa`, `ab`… for absurdly wide phases. */
function letters(n: number): string {
  const letter = String.fromCharCode(97 + (n % 26));
  return n < 26 ? letter : `${letters(Math.floor(n / 26) - 1)}${letter}`;
}

/** A role area needs this many files of a phase to become its own stream when splitting. */
export const MIN_SPLIT_FILES = 2;

/**
 * Groups a phase's files by role area when at least two specialist areas (other than testing) have
 * `MIN_SPLIT_FILES` files each. Test files, files with no area and files of smaller areas join the
 * first group: tests belong with the code they test, and one stray file is not worth another agent.
 */
export function splitByRole(files: readonly PlanFile[]): { role: string; files: PlanFile[] }[] | null {
  const areas = new Map<string, PlanFile[]>();
  const followers: PlanFile[] = [];
  for (const file of files) {
    const role = roleOfPath(file.path);
    if (role === null || role === 'testing') followers.push(file);
    else areas.set(role, [...(areas.get(role) ?? []), file]);
  }
  const groups = [...areas].filter(([, list]) => list.length >= MIN_SPLIT_FILES);
  if (groups.length < 2) return null;
  for (const [, list] of areas) if (list.length < MIN_SPLIT_FILES) followers.push(...list);
  const result = groups.map(([role, list]) => ({ role, files: list }));
  result[0]?.files.push(...followers);
  // Keep each stream's files in plan order.
  for (const group of result) group.files.sort((a, b) => files.indexOf(a) - files.indexOf(b));
  return result;
}

/** What a stream's paths mean in the repository. */
interface Expansion {
  /** Concrete paths: listed files plus glob and directory matches, sorted. */
  readonly files: string[];
  /** Globs and directories that could not be expanded (no repository). */
  readonly unexpanded: number;
  /** Globs that matched nothing in the repository. */
  readonly empty: PlanFile[];
  /** Glob patterns (directories as `dir/**`), to catch other streams' new files they cover. */
  readonly patterns: readonly string[];
  /** Patterns that could not be expanded; without a repository, equal patterns are one claim. */
  readonly unexpandedPatterns: readonly string[];
}

/** Sorted copies of repository file lists, so directory lookups are binary searches, not scans. */
const sortedLists = new WeakMap<
  readonly string[],
  { readonly sorted: readonly string[]; readonly set: ReadonlySet<string> }
>();

/** Files inside directory `dir` (a path listed without a trailing slash), or none when `dir` is itself a file. */
function filesUnder(repoFiles: readonly string[], dir: string): string[] {
  let index = sortedLists.get(repoFiles);
  if (!index) {
    index = { sorted: [...repoFiles].sort(), set: new Set(repoFiles) };
    sortedLists.set(repoFiles, index);
  }
  if (index.set.has(dir)) return [];
  const prefix = `${dir}/`;
  const { sorted } = index;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? '') < prefix) lo = mid + 1;
    else hi = mid;
  }
  const out: string[] = [];
  for (let i = lo; i < sorted.length && (sorted[i] ?? '').startsWith(prefix); i++) out.push(sorted[i] ?? '');
  return out;
}

/** Expands globs and directories (`src/api/`) against the repository file list. */
export function expandFiles(files: readonly PlanFile[], repoFiles: readonly string[] | null): Expansion {
  const concrete = new Set<string>();
  const empty: PlanFile[] = [];
  const patterns: string[] = [];
  const unexpandedPatterns: string[] = [];
  for (const file of files) {
    const path = file.path.replace(/^\.\//, '');
    const isDir = path.endsWith('/');
    if (!file.glob && !isDir) {
      const inside = repoFiles === null ? [] : filesUnder(repoFiles, path);
      if (inside.length > 0) {
        // A listed directory without a trailing slash: own what is inside it.
        for (const f of inside) concrete.add(f);
      } else concrete.add(path);
      continue;
    }
    const pattern = isDir ? `${path}**` : path;
    patterns.push(pattern);
    if (repoFiles === null) {
      unexpandedPatterns.push(pattern);
      continue;
    }
    const isMatch = loadPicomatch()(pattern, { dot: true });
    const matches = repoFiles.filter((f) => isMatch(f));
    if (matches.length === 0) empty.push(file);
    for (const m of matches) concrete.add(m);
  }
  return {
    files: [...concrete].sort(),
    unexpanded: unexpandedPatterns.length,
    empty,
    patterns,
    unexpandedPatterns,
  };
}

/** Files claimed by two or more streams (by concrete path, or a path one stream's glob covers). */
function findConflicts(
  drafts: readonly Draft[],
  expansion: ReadonlyMap<string, Expansion>,
): { path: string; streams: string[] }[] {
  const claims = new Map<string, Set<string>>();
  const claim = (path: string, stream: string): void => {
    const set = claims.get(path) ?? new Set<string>();
    set.add(stream);
    claims.set(path, set);
  };
  for (const d of drafts) {
    const exp = expansion.get(d.id);
    for (const f of exp?.files ?? []) claim(f, d.id);
    // Without a repository a pattern cannot be expanded; equal patterns are still the same claim.
    for (const p of exp?.unexpandedPatterns ?? []) claim(p, d.id);
  }
  // A glob also claims files other streams list but the repository does not have yet (new files).
  for (const d of drafts) {
    const patterns = expansion.get(d.id)?.patterns ?? [];
    if (patterns.length === 0) continue;
    const isMatch = loadPicomatch()([...patterns], { dot: true });
    for (const [path, owners] of claims) if (!owners.has(d.id) && isMatch(path)) owners.add(d.id);
  }
  const position = new Map(drafts.map((d, i) => [d.id, i]));
  const pos = (id: string): number => position.get(id) ?? 0;
  return [...claims]
    .filter(([, owners]) => owners.size > 1)
    .map(([path, owners]) => ({ path, streams: [...owners].sort((a, b) => pos(a) - pos(b)) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The stream graph while implicit edges are added: answers "are these two already ordered?". */
class EdgeOrder {
  readonly #base: Dag;
  readonly #deps: Map<string, Set<string>>;

  constructor(base: Dag) {
    this.#base = base;
    this.#deps = new Map(
      base.ids.map((id, i) => [id, new Set((base.deps[i] ?? []).map((d) => base.ids[d] ?? ''))]),
    );
  }

  /** True when a path of dependencies orders `a` and `b` either way. */
  ordered(a: string, b: string): boolean {
    return this.#reaches(a, b) || this.#reaches(b, a);
  }

  /** Makes `later` wait for `earlier`. */
  add(earlier: string, later: string): void {
    this.#deps.get(later)?.add(earlier);
  }

  /** The final acyclic graph, implicit edges included. */
  toDag(): Dag {
    return createDag(this.#base.ids.map((id) => ({ id, dependsOn: [...(this.#deps.get(id) ?? [])] })));
  }

  #reaches(from: string, to: string): boolean {
    const seen = new Set([to]);
    const stack = [to];
    for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
      for (const d of this.#deps.get(v) ?? []) {
        if (d === from) return true;
        if (!seen.has(d)) {
          seen.add(d);
          stack.push(d);
        }
      }
    }
    return false;
  }
}

/** Parser diagnostics then ours, ordered by line (stable), without exact repeats. */
function mergeDiagnostics(parser: readonly Diagnostic[], ours: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const all = [...parser, ...ours].filter((d) => {
    const key = `${d.code}|${String(d.line)}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return all
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.line ?? Infinity) - (b.d.line ?? Infinity) || a.i - b.i)
    .map(({ d }) => d);
}
