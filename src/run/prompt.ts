/**
 * Prompt assembly. The stream's own task comes first (title, owned files, critical fixes), and only
 * then context from the plan and other streams, so an agent never mistakes another stream's files for its own.
 */
import type { Analysis, Stream } from '../analyze/types.js';

/** A dependency's completion report, handed on as an interface contract. */
export interface DependencyReport {
  readonly streamId: string;
  readonly title: string;
  readonly reportName: string;
  readonly text: string;
}

export interface PromptInput {
  readonly analysis: Analysis;
  readonly stream: Stream;
  readonly validationCommands: readonly string[];
  readonly dependencyReports: readonly DependencyReport[];
  /** Why this attempt is a retry (failed validation output, conflict), if it is one. */
  readonly retryContext: string | null;
  readonly reportFileHint: string;
}

/** Builds the full prompt for one stream attempt. */
export function assemblePrompt(input: PromptInput): string {
  const { analysis, stream } = input;
  const phase = analysis.plan.phases.find((p) => p.id === stream.phaseId);
  const role = analysis.roles[stream.role];
  const fixes = analysis.criticalFixes.filter((f) => stream.criticalFixes.includes(f.id));
  const out: string[] = [];
  out.push(`# Your task: ${stream.title}`);
  out.push('');
  out.push(
    `You are one of several coding agents working in parallel on the plan "${analysis.plan.title}". ` +
      `You work on stream ${stream.id} (phase ${stream.phaseId}) in your own git worktree; ` +
      'other agents own other files, so change only the files listed below.',
  );
  out.push('');
  out.push('## Files you own (change only these)');
  if (stream.files.length === 0)
    out.push('- (the plan names no files; keep your changes minimal and focused)');
  for (const f of stream.files) out.push(`- \`${f.path}\`${f.action === 'unknown' ? '' : ` (${f.action})`}`);
  out.push('');
  if (fixes.length > 0) {
    out.push('## Critical fixes you must honour');
    for (const f of fixes) out.push(`- ${f.id}: ${f.text}`);
    out.push('');
  }
  if (input.retryContext !== null) {
    out.push('## This is a retry');
    out.push('Your previous attempt did not pass. Fix the problem described here:');
    out.push('');
    out.push('```text');
    out.push(input.retryContext.trimEnd());
    out.push('```');
    out.push('');
  }
  if (role) {
    out.push(`## Your role: ${role.name}`);
    out.push(role.instructions.trim());
    out.push('');
  }
  out.push('## The phase, as the plan describes it');
  out.push(phase ? phase.body.trim() : stream.title);
  out.push('');
  if (input.validationCommands.length > 0) {
    out.push('## Validation');
    out.push('After your work is merged, these commands must pass:');
    for (const c of input.validationCommands) out.push(`- \`${c}\``);
    out.push('');
  }
  if (input.dependencyReports.length > 0) {
    out.push('## Work already done by the streams you depend on (interface contracts)');
    for (const r of input.dependencyReports) {
      out.push(`### ${r.streamId}: ${r.title} (${r.reportName})`);
      out.push(r.text.trim() === '' ? '(no report)' : r.text.trim());
      out.push('');
    }
  }
  out.push('## Your worktree');
  out.push(
    'Other agents work side by side in worktrees of their own. If you start a server (a dev server, a test server, a database), use $MAESTRO_PORT (and the ports just above it, up to $MAESTRO_PORT + 9), never a fixed port.',
  );
  out.push('');
  out.push('## When you are done');
  out.push(
    `Leave your changes in the worktree (committing is optional) and write a short completion report to ${input.reportFileHint}: ` +
      'what you built, the interfaces other streams can rely on, and anything left undone.',
  );
  return `${out.join('\n')}\n`;
}

/**
 * The prompt of a retry that resumes the agent's previous session: that session already holds the task,
 * so only the failure and what to do next are sent.
 */
export function assembleRetryPrompt(retryContext: string, reportFileHint: string): string {
  return [
    '# Your previous work did not pass validation',
    '',
    'Your changes were merged into the integration branch, and a validation gate then failed:',
    '',
    '```text',
    retryContext.trimEnd(),
    '```',
    '',
    'Fix the problem in the files you own (the same worktree as before), then write a new completion report to ' +
      `${reportFileHint}.`,
    '',
  ].join('\n');
}

/** One path in conflict, with each side's change since the two sides forked. */
export interface ConflictSide {
  readonly path: string;
  /** The stream's own change to the path (a diff), possibly shortened. */
  readonly ours: string;
  /** The change merged meanwhile into the integration branch (a diff), possibly shortened. */
  readonly theirs: string;
  /** The streams whose merges made `theirs`. */
  readonly theirStreams: readonly string[];
}

/**
 * The prompt that hands a merge conflict back to the agent that made it. `resumed`: the agent's own
 * session continues (it knows its task), so only the conflict is sent; otherwise the task's title and
 * owned files come first.
 */
export function assembleConflictPrompt(input: {
  readonly streamId: string;
  readonly title: string;
  readonly files: readonly string[];
  readonly conflicts: readonly ConflictSide[];
  readonly resumed: boolean;
  readonly reportFileHint: string;
}): string {
  const out: string[] = [
    '# Your work conflicts with work merged meanwhile: resolve these conflicts, keep both intents',
    '',
  ];
  if (!input.resumed) {
    out.push(
      `You are the coding agent of stream ${input.streamId}, "${input.title}", in your own git worktree. ` +
        'Your earlier work is committed on your branch.',
      '',
      '## Files you own',
      ...input.files.map((f) => `- \`${f}\``),
      '',
    );
  }
  out.push(
    'Other streams merged work into the integration branch since you started. That work has now been merged ' +
      'into your branch in your worktree, and git left conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) in:',
    '',
    ...input.conflicts.map(
      (c) =>
        `- \`${c.path}\`${c.theirStreams.length > 0 ? ` (also changed by ${c.theirStreams.join(', ')})` : ''}`,
    ),
    '',
    'Edit each of these files so that it keeps both intents: what your change does and what the other change does. ' +
      'Remove every conflict marker; a marker left in a file fails your stream. Change nothing else, and do not run git: ' +
      'Maestro commits the resolved merge.',
    '',
  );
  for (const c of input.conflicts) {
    out.push(`## \`${c.path}\``, '', 'Your change:', '', '```diff', c.ours.trimEnd() || '(none)', '```', '');
    out.push('The change merged meanwhile:', '', '```diff', c.theirs.trimEnd() || '(none)', '```', '');
  }
  out.push(
    `When the conflicts are resolved, write a short completion report to ${input.reportFileHint}.`,
    '',
  );
  return out.join('\n');
}
