/**
 * Maestro's plan data model: what the parser takes from a Markdown implementation plan.
 * Everything here is plain data (JSON-serialisable) so it can cross process and machine boundaries.
 */

/** How sure the parser is about a diagnostic: errors stop `run`; warnings and infos are reported. */
export type Severity = 'error' | 'warning' | 'info';

/** A problem found in the plan or the analysis, reported like a compiler would (`plan.md:42: ...`). */
export interface Diagnostic {
  readonly severity: Severity;
  /** Stable machine-readable code, e.g. `unknown-dependency`, `cycle`, `path-escapes-repo`. */
  readonly code: string;
  /** Human message that says what is wrong and how to fix it. */
  readonly message: string;
  /** 1-based line in the plan file, when the problem has a place. */
  readonly line?: number;
  /** The plan file the line refers to. */
  readonly file?: string;
}

/** What a phase does to a file, where the plan says so. */
export type FileAction = 'create' | 'modify' | 'delete' | 'unknown';

/** A repository path (or glob) that a phase touches. */
export interface PlanFile {
  /** Repository-relative path or glob, without a leading `./`. */
  readonly path: string;
  readonly action: FileAction;
  /** True when `path` contains glob characters. */
  readonly glob: boolean;
  /** Line in the plan where the path was read. */
  readonly line: number;
}

/** A critical fix or requirement (e.g. from a code review) that agents must honour. */
export interface CriticalFix {
  /** Stable id: `C1`, `C2`… in document order, or the plan's own numbering (`FIX-3`). */
  readonly id: string;
  readonly text: string;
  readonly line: number;
  /** Phase ids the fix applies to; empty means it applies to every phase. */
  readonly phases: readonly string[];
}

/** A validation command (shell) that checks a phase's or the whole plan's work. */
export interface ValidationCommand {
  readonly command: string;
  readonly line: number;
}

/** Agent hints the plan gives for a phase (`Agent: …`, `Role: …`, `Model: haiku`). */
export interface AgentHints {
  readonly role?: string;
  readonly agent?: string;
  readonly model?: string;
}

/** One unit of work in the plan: a phase, step, stage, milestone, part or task. */
export interface Phase {
  /** The plan's own number or id (`1`, `2.1`, `A`), else the 1-based position as a string. Unique. */
  readonly id: string;
  /** Heading text without its numbering and Markdown markup. */
  readonly title: string;
  /** 1-based line of the heading or item that opens the phase. */
  readonly line: number;
  /** Last line (inclusive) of the phase's body. */
  readonly endLine: number;
  /** The phase's Markdown text (heading and body), given to its agent. */
  readonly body: string;
  readonly files: readonly PlanFile[];
  /** Ids of phases this one waits for. */
  readonly dependsOn: readonly string[];
  /** True when the phase itself states its dependencies (even "none"). */
  readonly explicitDependencies: boolean;
  /** Ids of critical fixes that concern this phase (including plan-wide ones). */
  readonly criticalFixes: readonly string[];
  readonly validation: readonly ValidationCommand[];
  readonly hints: AgentHints;
}

/** `explicit`: the plan states dependencies and only those count; `sequential`: document order. */
export type DependencyRule = 'explicit' | 'sequential';

/** One dependency edge and the statement behind it. */
export interface DependencyEdge {
  /** The phase that waits. */
  readonly phase: string;
  /** The phase it waits for. */
  readonly dependsOn: string;
  /** Line of the statement (for the sequential rule: the waiting phase's own line). */
  readonly line: number;
  /** The rule that read the statement, in words. */
  readonly rule: string;
}

/** How the parser read the plan, so a user can see why and state otherwise. */
export interface PlanReading {
  /** Which construct made the phases, in words ("the 4 `### Terminal N:` headings (lines 12, 40, 71, 99)"). */
  readonly phases: string;
  /** How the phases were found: `heading`, `xml-task`, `list`, `section`, `settings` or `none`. */
  readonly phaseStyle: string;
  /** Lines of the constructs that opened the phases. */
  readonly phaseLines: readonly number[];
  /** What the sub-steps inside the phases are, in words, or '' when there are none. */
  readonly subSteps: string;
  /** Which dependency rule applied and why, in words. */
  readonly dependencies: string;
  /** Every dependency edge with the line that stated it. */
  readonly edges: readonly DependencyEdge[];
}

/** The parsed plan. */
export interface Plan {
  /** Path of the plan file as given. */
  readonly source: string;
  readonly title: string;
  readonly phases: readonly Phase[];
  readonly criticalFixes: readonly CriticalFix[];
  /** Plan-wide validation commands (not tied to one phase). */
  readonly validation: readonly ValidationCommand[];
  readonly dependencyRule: DependencyRule;
  /** Where the dependency rule came from, in words (for the summary). */
  readonly dependencyRuleReason: string;
  /** Settings from YAML front matter or a ```maestro``` block, validated. */
  readonly settings: PlanSettings;
  /**
   * How the plan was read: the phase construct, the dependency rule and each edge's source.
   * `parsePlan` always sets it; plans built by hand (tests, other tools) may leave it out.
   */
  readonly reading?: PlanReading;
}

/** Settings a plan may state precisely in front matter or a ```maestro``` block. */
export interface PlanSettings {
  readonly maxParallel?: number;
  readonly model?: string;
  readonly agent?: string;
  /** Worktree setup commands (`setup:`); an empty list turns setup detection off. */
  readonly setup?: readonly string[];
  /** Commands run in a worktree before it is removed (`teardown:`). */
  readonly teardown?: readonly string[];
}

/** The parser's result: a plan (possibly partial) and everything it could not interpret. */
export interface ParseResult {
  readonly plan: Plan;
  readonly diagnostics: readonly Diagnostic[];
}
