/**
 * Markdown implementation plan → `Plan`. Pure: takes the text, returns the plan and diagnostics.
 * Pipeline: guards → markdown-it blocks → phases → files → references → dependencies → settings overrides →
 * extras (validation, hints, critical fixes).
 */
import type {
  DependencyEdge,
  Diagnostic,
  Phase,
  PlanFile,
  ParseResult,
  Plan,
  PlanReading,
  PlanSettings,
} from './types.js';
import { readMarkdown, type MarkdownDoc } from './markdown.js';
import { cancelledUnits, findPhases, type PhaseAlternative, type PhaseDraft } from './phases.js';
import { collectFiles, type SkippedPath } from './files.js';
import { RefIndex } from './references.js';
import { readDependencies } from './dependencies.js';
import { readSettings, type PlanSettingsInput } from './settings.js';
import { readCriticalFixes, readHints, readValidation } from './extras.js';
import { cleanTitle } from './headings.js';
import { isGlob, normalisePath } from './paths.js';

/** Plans above this size are refused: they are not hand-written plans and would stall the parser. */
export const MAX_PLAN_CHARS = 2_000_000;

function emptyPlan(source: string, title = ''): Plan {
  return {
    source,
    title,
    phases: [],
    criticalFixes: [],
    validation: [],
    dependencyRule: 'sequential',
    dependencyRuleReason: 'the plan has no phases',
    settings: {},
    reading: {
      phases: 'nothing: the plan was not read',
      phaseStyle: 'none',
      phaseLines: [],
      subSteps: '',
      dependencies: 'the plan has no phases',
      edges: [],
    },
  };
}

function diagnostic(
  severity: Diagnostic['severity'],
  code: string,
  source: string,
  line: number,
  message: string,
): Diagnostic {
  return { severity, code, message: `${source}:${line}: ${message}`, line, file: source };
}

/** Refuses input that is not a Markdown plan; returns the reason or null. */
function guard(text: string, source: string): Diagnostic | null {
  if (text.length > MAX_PLAN_CHARS) {
    return diagnostic(
      'error',
      'plan-too-large',
      source,
      1,
      `the plan is ${text.length} characters, more than the ${MAX_PLAN_CHARS} Maestro reads; split it into several plans`,
    );
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    return diagnostic(
      'error',
      'binary-content',
      source,
      line,
      'the file contains NUL bytes, so it is not a text Markdown plan; pass the plan file itself',
    );
  }
  if (text.trim() === '') {
    return diagnostic(
      'error',
      'empty-plan',
      source,
      1,
      'the plan is empty; write phases as headings such as "## Phase 1: Title"',
    );
  }
  return null;
}

function planTitle(doc: MarkdownDoc): string {
  const top = doc.headings.find((h) => h.depth === 1) ?? doc.headings[0];
  return top ? cleanTitle(top.text) : '';
}

/** Phases declared only in settings (no Markdown phase to attach to). */
function settingsDrafts(
  settings: PlanSettingsInput | null,
  line: number,
  existing: readonly PhaseDraft[],
): PhaseDraft[] {
  const known = new Set(existing.map((p) => p.id));
  return (settings?.phases ?? [])
    .filter((p) => !known.has(p.id))
    .map((p) => ({
      id: p.id,
      kind: '',
      title: p.title ?? `Phase ${p.id}`,
      line,
      endLine: line,
      depth: 0,
      subSteps: [],
    }));
}

/** The warning for a second plausible phase level, with the setting that would state it. */
function ambiguity(source: string, construct: string, alternative: PhaseAlternative): Diagnostic {
  return diagnostic(
    'warning',
    'ambiguous-phase-level',
    source,
    alternative.line,
    `phases were read as ${construct}; another reading is ${alternative.description}. ` +
      `To read the plan that way, add these lines to the front matter (or to a \`\`\`maestro block):\n` +
      `    phaseLevel: "${alternative.phaseLevel}"`,
  );
}

/** Makes ids unique, reporting each duplicate. */
function uniqueIds(drafts: readonly PhaseDraft[], source: string, out: Diagnostic[]): PhaseDraft[] {
  const seen = new Set<string>();
  return drafts.map((draft) => {
    if (!seen.has(draft.id)) {
      seen.add(draft.id);
      return draft;
    }
    let n = 2;
    while (seen.has(`${draft.id}-${n}`)) n++;
    const id = `${draft.id}-${n}`;
    seen.add(id);
    out.push(
      diagnostic(
        'error',
        'duplicate-phase-id',
        source,
        draft.line,
        `phase id "${draft.id}" is used twice ("${draft.title}"); renumber it (read as "${id}" for now)`,
      ),
    );
    return { ...draft, id };
  });
}

function unterminatedFences(doc: MarkdownDoc, source: string): Diagnostic[] {
  // The last line with content: a fence left open runs to the end of the document.
  let last = doc.lines.length;
  while (last > 1 && (doc.lines[last - 1] ?? '').trim() === '') last--;
  return doc.codeBlocks
    .filter((b) => {
      const opening = /^\s*(`{3,}|~{3,})/.exec(doc.lines[b.line - 1] ?? '')?.[1];
      if (!opening) return false;
      const closing = doc.lines[b.endLine - 1] ?? '';
      return b.endLine >= last && (b.endLine === b.line || !closing.trim().startsWith(opening));
    })
    .map((b) =>
      diagnostic(
        'warning',
        'unterminated-code-block',
        source,
        b.line,
        'this code block is never closed, so the rest of the plan is read as code; add the closing fence',
      ),
    );
}

/** Options for `parsePlan`. */
export interface ParseOptions {
  /**
   * Settings merged over the plan's own (validated by the caller, e.g. an assisted reading): each key
   * wins over the plan's, and `phases` entries win per id.
   */
  readonly settings?: PlanSettingsInput;
}

/** `over` merged over `base`: keys replace, phases merge by id. */
function mergeSettings(
  base: PlanSettingsInput | null,
  over: PlanSettingsInput | undefined,
): PlanSettingsInput | null {
  if (!over) return base;
  if (!base) return over;
  const phases = [...(base.phases ?? [])];
  for (const phase of over.phases ?? []) {
    const at = phases.findIndex((p) => p.id === phase.id);
    if (at >= 0) phases[at] = { ...phases[at], ...phase };
    else phases.push(phase);
  }
  return { ...base, ...over, ...(phases.length > 0 ? { phases } : {}) };
}

function parseDocument(text: string, source: string, diagnostics: Diagnostic[], options: ParseOptions): Plan {
  const doc = readMarkdown(text);
  diagnostics.push(...unterminatedFences(doc, source));
  const settingsResult = readSettings(doc, source);
  diagnostics.push(...settingsResult.diagnostics);
  const settings = mergeSettings(settingsResult.settings, options.settings);
  const layout = findPhases(doc, settings?.phaseLevel);
  // Cancelled work is left out, its files too, and reported so it does not vanish silently.
  const cancelled = cancelledUnits(doc);
  const inCancelled = new Uint8Array(doc.lines.length + 2);
  for (const unit of cancelled) {
    for (let l = unit.line; l <= unit.endLine && l < inCancelled.length; l++) inCancelled[l] = 1;
    diagnostics.push(
      diagnostic(
        'info',
        'cancelled-work',
        source,
        unit.line,
        `"${unit.title}" is struck through or marked cancelled, so it is left out (no phase, no files); remove the mark to run it`,
      ),
    );
  }
  if (layout.alternative) diagnostics.push(ambiguity(source, layout.construct, layout.alternative));
  const drafts = uniqueIds(
    [...layout.phases, ...settingsDrafts(settings, settingsResult.line, layout.phases)],
    source,
    diagnostics,
  );
  if (drafts.length === 0) {
    diagnostics.push(
      diagnostic(
        'warning',
        'no-phases',
        source,
        1,
        'no phases found; write each unit of work as a heading such as "## Phase 1: Title" or "### Step 2 - Title"',
      ),
    );
  } else if (layout.style === 'section') {
    diagnostics.push(
      diagnostic(
        'info',
        'phases-from-sections',
        source,
        drafts[0]?.line ?? 1,
        'no numbered phases found; each section was read as a phase',
      ),
    );
  }
  const byId = new Map((settings?.phases ?? []).map((p) => [p.id, p]));

  const files: PlanFile[][] = drafts.map((draft) => {
    const stated = byId.get(draft.id)?.files;
    if (stated) {
      return stated.flatMap((raw) => {
        const path = normalisePath(raw, { allowDirectory: true, quoted: true }) ?? raw.trim();
        return path
          ? [{ path, action: 'unknown' as const, glob: isGlob(path), line: settingsResult.line }]
          : [];
      });
    }
    if (draft.line === draft.endLine && draft.line === settingsResult.line) return [];
    const skipped: SkippedPath[] = [];
    const found = collectFiles(doc, draft.line, draft.endLine, (l) => inCancelled[l] === 1, skipped);
    // Nothing vanishes: every path-like token the phase does not get as a file is reported, with why.
    for (const s of skipped)
      diagnostics.push(
        diagnostic(
          'info',
          'path-not-taken',
          source,
          s.line,
          `"${s.path}" in phase ${draft.id} was not taken as one of its files: ${s.reason}. If the phase changes it, list it under "Files:"`,
        ),
      );
    return found;
  });
  const index = new RefIndex(drafts);
  const deps = readDependencies({ doc, phases: drafts, index, files, source });
  diagnostics.push(...deps.diagnostics);

  const idToIndex = new Map(drafts.map((d, i) => [d.id, i]));
  const settingsEdges = new Set<number>();
  const dependsOn = deps.dependsOn.map((list) => [...list]);
  const explicit = [...deps.explicit];
  let stated = deps.stated;
  let reason = deps.stated
    ? `the plan states dependencies (${deps.reasons.join('; ') || 'explicitly none'}), so only those count`
    : 'the plan states no dependencies, so each phase waits for the one before it';
  drafts.forEach((draft, i) => {
    const declared = byId.get(draft.id)?.dependsOn;
    if (!declared) return;
    const resolved: number[] = [];
    for (const ref of declared) {
      const target = idToIndex.get(ref) ?? index.lookup(ref)?.phase;
      if (target === undefined) {
        diagnostics.push(
          diagnostic(
            'error',
            'unknown-dependency',
            source,
            settingsResult.line,
            `settings phase "${draft.id}" depends on unknown phase "${ref}"; use one of: ${drafts.map((d) => d.id).join(', ')}`,
          ),
        );
      } else if (target === i) {
        diagnostics.push(
          diagnostic(
            'error',
            'self-dependency',
            source,
            settingsResult.line,
            `settings phase "${draft.id}" depends on itself; remove it from its dependsOn`,
          ),
        );
      } else resolved.push(target);
    }
    dependsOn[i] = resolved;
    settingsEdges.add(i);
    explicit[i] = true;
    stated = true;
    reason = 'the plan settings state the dependencies';
  });
  if (settings?.dependencyRule) {
    stated = settings.dependencyRule === 'explicit';
    reason = `the plan settings ask for the ${settings.dependencyRule} rule`;
  }

  const phaseOfLine = new Int32Array(doc.lines.length + 2).fill(-1);
  drafts.forEach((d, i) => {
    for (let l = d.line; l <= d.endLine && l < phaseOfLine.length; l++) phaseOfLine[l] = i;
  });
  const filePhases = new Map<string, number[]>();
  files.forEach((list, i) => {
    for (const f of list) filePhases.set(f.path, [...(filePhases.get(f.path) ?? []), i]);
  });
  const fixes = readCriticalFixes(doc, drafts, (l) => phaseOfLine[l] ?? -1, index, filePhases);
  for (const fix of settings?.criticalFixes ?? []) {
    const item = typeof fix === 'string' ? { text: fix } : fix;
    fixes.push({
      id: item.id ?? `C${fixes.length + 1}`,
      text: item.text,
      line: settingsResult.line,
      phases: item.phases ?? [],
    });
  }

  const toList = (v: string[] | undefined): string[] => v ?? [];
  const phases: Phase[] = drafts.map((draft, i) => {
    const override = byId.get(draft.id);
    const hints = readHints(doc, draft.line, draft.endLine);
    const validation = [
      ...readValidation(doc, draft.line, draft.endLine),
      ...toList(override?.validation).map((command) => ({ command, line: settingsResult.line })),
    ];
    const ids = stated
      ? (dependsOn[i] ?? []).map((d) => drafts[d]?.id ?? '')
      : i > 0
        ? [drafts[i - 1]?.id ?? '']
        : [];
    return {
      id: draft.id,
      title: override?.title ?? draft.title,
      line: draft.line,
      endLine: draft.endLine,
      body: doc.lines.slice(draft.line - 1, draft.endLine).join('\n'),
      files: files[i] ?? [],
      dependsOn: ids,
      explicitDependencies: explicit[i] ?? false,
      criticalFixes: fixes
        .filter((f) => f.phases.length === 0 || f.phases.includes(draft.id))
        .map((f) => f.id),
      validation,
      hints: {
        ...hints,
        ...(override?.role !== undefined ? { role: override.role } : {}),
        ...(override?.agent !== undefined ? { agent: override.agent } : {}),
        ...(override?.model !== undefined ? { model: override.model } : {}),
      },
    };
  });

  const planValidation = [
    ...readValidation(doc, 1, doc.lines.length, (l) => (phaseOfLine[l] ?? -1) !== -1),
    ...toList(settings?.validation).map((command) => ({ command, line: settingsResult.line })),
  ];
  const planSettings: PlanSettings = {
    ...(settings?.maxParallel !== undefined ? { maxParallel: settings.maxParallel } : {}),
    ...(settings?.model !== undefined ? { model: settings.model } : {}),
    ...(settings?.agent !== undefined ? { agent: settings.agent } : {}),
    ...(settings?.setup !== undefined ? { setup: settings.setup } : {}),
    ...(settings?.teardown !== undefined ? { teardown: settings.teardown } : {}),
  };
  const edges: DependencyEdge[] = phases.flatMap((phase, i) =>
    phase.dependsOn.map((dep) => {
      const d = idToIndex.get(dep) ?? -1;
      if (!stated) return { phase: phase.id, dependsOn: dep, line: phase.line, rule: 'document order' };
      if (settingsEdges.has(i))
        return { phase: phase.id, dependsOn: dep, line: settingsResult.line, rule: 'the plan settings' };
      const src = deps.sources.get(`${i}>${d}`);
      return { phase: phase.id, dependsOn: dep, line: src?.line ?? phase.line, rule: src?.rule ?? 'stated' };
    }),
  );
  const fromSettings = drafts.length - layout.phases.length;
  const reading: PlanReading = {
    phases:
      `phases: ${layout.construct}` +
      (fromSettings > 0 ? `, plus ${fromSettings} declared only in the plan settings` : ''),
    phaseStyle: layout.style,
    phaseLines: drafts.map((d) => d.line),
    subSteps: layout.subSteps,
    dependencies: `dependencies: ${stated ? 'explicit' : 'sequential'}, because ${reason}`,
    edges,
  };
  return {
    source,
    title: planTitle(doc),
    phases,
    criticalFixes: fixes,
    validation: planValidation,
    dependencyRule: stated ? 'explicit' : 'sequential',
    dependencyRuleReason: reason,
    settings: planSettings,
    reading,
  };
}

/** Parses a Markdown implementation plan; never throws: problems are returned as diagnostics. */
export function parsePlan(text: string, source: string, options: ParseOptions = {}): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const refused = guard(text, source);
  if (refused) return { plan: emptyPlan(source), diagnostics: [refused] };
  try {
    const plan = parseDocument(text, source, diagnostics, options);
    return { plan, diagnostics };
  } catch (error) {
    // A parser bug must not take the CLI down with a stack trace; report it like any other problem.
    const message = error instanceof Error ? error.message : String(error);
    diagnostics.push(
      diagnostic(
        'error',
        'parse-failed',
        source,
        1,
        `the parser failed (${message}); please report this plan`,
      ),
    );
    return { plan: emptyPlan(source), diagnostics };
  }
}
