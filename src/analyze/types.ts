/**
 * The analysis data model: streams (what agents run), the schedule, conflicts and estimates.
 * Produced by pure functions from a `Plan`; consumed by `run/`, `report/` and `cli/`.
 */
import type {
  CriticalFix,
  Diagnostic,
  DependencyRule,
  Plan,
  PlanFile,
  ValidationCommand,
} from '../plan/types.js';
import type { ImpliedFile } from './lockfiles.js';

/** A specialist role: instructions and the completion report an agent of this role writes. */
export interface RoleDefinition {
  /** Role id, e.g. `migration`, `models`, `validation`, `services`, `pipeline`, `api`, `testing`, `general`. */
  readonly name: string;
  readonly description: string;
  /** Claude Code tool names the role may use (from the role file's `tools`). */
  readonly tools: readonly string[];
  /** Model alias or id (`haiku`, `sonnet`, `opus`, `inherit`). */
  readonly model: string;
  /** The role's instructions (the role file's body). */
  readonly instructions: string;
  /** File name of the completion report, e.g. `MIGRATION_COMPLETE.md`. */
  readonly reportName: string;
  /** Where the definition came from: `builtin`, or the path of a user's override file. */
  readonly source: string;
}

/** One unit of scheduled agent work. By default one per phase; `--split` may make several. */
export interface Stream {
  /** Unique, branch-safe id, e.g. `s1`, `s2a`. */
  readonly id: string;
  readonly phaseId: string;
  readonly title: string;
  /** Role name (key into `Analysis.roles`). */
  readonly role: string;
  /** Why this role was chosen (for the summary). */
  readonly roleReason: string;
  /** Files the stream owns (paths or globs, as in the plan). */
  readonly files: readonly PlanFile[];
  /**
   * Concrete paths the stream owns: listed files as written, plus globs and directories expanded
   * against the repository (existing files only; unexpanded when there is no repository).
   */
  readonly expandedFiles: readonly string[];
  /**
   * Files the stream owns because of a file it owns: the lockfiles of its manifests (`package.json`
   * → `package-lock.json`). Absent in analyses saved before lockfiles were paired.
   */
  readonly impliedFiles?: readonly ImpliedFile[];
  /** Stream ids this stream waits for because the plan says so. */
  readonly dependsOn: readonly string[];
  /** Stream ids this stream waits for because they share a file (serialised conflicts). */
  readonly implicitDependsOn: readonly string[];
  readonly criticalFixes: readonly string[];
  readonly validation: readonly ValidationCommand[];
  /** Model the stream would run with (role model unless the plan says otherwise). */
  readonly model: string;
  /** Estimated work, in minutes and tokens. */
  readonly estimate: StreamEstimate;
}

export interface StreamEstimate {
  readonly minutes: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

/** A file claimed by more than one stream. */
export interface Conflict {
  readonly path: string;
  readonly streams: readonly string[];
  /** `serialised`: implicit edges were added in document order; `reported`: left as is. */
  readonly resolution: 'serialised' | 'reported';
}

export interface Estimate {
  /** The model the estimate assumes per stream unless the stream says otherwise. */
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  /** Wall minutes for one-at-a-time, wave-by-wave and dynamic (DAG) execution at `maxParallel`. */
  readonly minutes: { readonly sequential: number; readonly waves: number; readonly dynamic: number };
  /** How the numbers were computed, in words. */
  readonly method: string;
}

/** The full result of `maestro analyze`. */
export interface Analysis {
  readonly plan: Plan;
  readonly dependencyRule: DependencyRule;
  readonly streams: readonly Stream[];
  readonly roles: Readonly<Record<string, RoleDefinition>>;
  /** Topological levels of stream ids, each at most `maxParallel` long. */
  readonly waves: readonly (readonly string[])[];
  /** Longest chain of stream ids by estimated minutes. */
  readonly criticalPath: readonly string[];
  /** The order a dynamic scheduler would start streams in (critical path first). */
  readonly startOrder: readonly string[];
  readonly conflicts: readonly Conflict[];
  readonly criticalFixes: readonly CriticalFix[];
  readonly estimate: Estimate;
  readonly maxParallel: number;
  readonly repo: string | null;
  readonly diagnostics: readonly Diagnostic[];
}
