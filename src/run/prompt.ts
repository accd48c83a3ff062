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
