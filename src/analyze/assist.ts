/**
 * The assisted reading (`maestro analyze --assist`), its pure half: the prompt that asks an agent for
 * the plan settings, the check of its reply against the published plan-settings schema, and the list
 * of what the reply changed in the rule-based reading. Spawning the agent is the CLI's job.
 */
import { loadZod } from '../util/lazy.js';
import { planSettingsSchema, type PlanSettingsInput } from '../plan/settings.js';
import type { Plan } from '../plan/types.js';

/** The agent's reply, checked: settings to merge over the plan's, or why they cannot be used. */
export type AssistReply =
  | { readonly ok: true; readonly settings: PlanSettingsInput }
  | { readonly ok: false; readonly error: string };

/** The rule-based reading in the shape of the plan settings, so the agent corrects rather than starts over. */
function readingAsSettings(plan: Plan): Record<string, unknown> {
  return {
    dependencyRule: plan.dependencyRule,
    phases: plan.phases.map((p) => ({
      id: p.id,
      title: p.title,
      line: p.line,
      dependsOn: p.dependsOn,
      files: p.files.map((f) => f.path),
    })),
  };
}

/** The prompt for the agent: the plan, Maestro's reading of it, and what to answer. */
export function assistPrompt(planText: string, plan: Plan): string {
  return [
    'You are checking how a tool read a Markdown implementation plan, so that parallel coding agents get the right work.',
    'Answer ONLY with plan settings as JSON matching the given schema. Conventions:',
    '- phases are the outermost units of work that repeat (headings or task items), in document order; sub-steps belong to their phase;',
    '- dependsOn lists the ids of the phases a phase must wait for, as the plan states them; "parallel with", merge order and schedules are not dependencies;',
    '  when the plan states no dependencies at all, set dependencyRule "sequential";',
    '- files are repository paths the phase creates, modifies or deletes (not paths cited for context, in code blocks, or URLs);',
    '- keep the ids of the reading below; add a phase only if the reading missed one; set phaseLevel (e.g. "## Track") if the reading chose the wrong heading level.',
    '',
    "The tool's reading:",
    JSON.stringify(readingAsSettings(plan), null, 2),
    '',
    'The plan:',
    '<plan>',
    planText,
    '</plan>',
  ].join('\n');
}

/** Checks the agent's JSON against the plan-settings schema. */
export function readAssistReply(value: unknown): AssistReply {
  const { z } = loadZod();
  const result = planSettingsSchema().safeParse(value);
  if (result.success) return { ok: true, settings: result.data };
  return {
    ok: false,
    error: `the agent's reply does not match the plan settings schema:\n${z.prettifyError(result.error)}`,
  };
}

/** What the assisted reading changed, one line per change (empty when it agrees). */
export function readingChanges(before: Plan, after: Plan): string[] {
  const changes: string[] = [];
  if (before.dependencyRule !== after.dependencyRule)
    changes.push(`dependency rule: ${before.dependencyRule} → ${after.dependencyRule}`);
  const old = new Map(before.phases.map((p) => [p.id, p]));
  const now = new Map(after.phases.map((p) => [p.id, p]));
  for (const p of after.phases) if (!old.has(p.id)) changes.push(`+ phase ${p.id} "${p.title}"`);
  for (const p of before.phases) if (!now.has(p.id)) changes.push(`- phase ${p.id} "${p.title}"`);
  for (const p of after.phases) {
    const was = old.get(p.id);
    if (!was) continue;
    if (was.title !== p.title) changes.push(`phase ${p.id}: title "${was.title}" → "${p.title}"`);
    const oldDeps = new Set(was.dependsOn);
    const newDeps = new Set(p.dependsOn);
    for (const d of p.dependsOn) if (!oldDeps.has(d)) changes.push(`+ edge ${p.id} ← ${d}`);
    for (const d of was.dependsOn) if (!newDeps.has(d)) changes.push(`- edge ${p.id} ← ${d}`);
    const oldFiles = new Set(was.files.map((f) => f.path));
    const newFiles = new Set(p.files.map((f) => f.path));
    for (const f of newFiles) if (!oldFiles.has(f)) changes.push(`+ file ${p.id}: ${f}`);
    for (const f of oldFiles) if (!newFiles.has(f)) changes.push(`- file ${p.id}: ${f}`);
  }
  return changes;
}
