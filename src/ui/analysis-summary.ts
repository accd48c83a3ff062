/**
 * The readable summary printed by `maestro analyze`: pure formatting of an `Analysis`.
 */
import type { Analysis } from '../analyze/types.js';
import type { Diagnostic } from '../plan/types.js';

/** A plan's title without a leading "Plan:" (from a `# Plan: X` heading), so it never prints as "Plan: Plan: X". */
export function planTitle(title: string): string {
  return title.replace(/^\s*plan\s*(?::|\s[\u2014-]\s)\s*/i, '');
}

/**
 * Formats a diagnostic for a terminal. Messages already open with `file:line:` (the parser and the
 * analyser put the location first, like a compiler), so only the severity and code are added.
 */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.severity}[${d.code}]: ${d.message}`;
}

function money(usd: number): string {
  return `$${usd.toFixed(usd < 10 ? 2 : 0)}`;
}

function minutes(m: number): string {
  if (m < 60) return `${Math.round(m)} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${Math.round(m - h * 60)} min`;
}

function tokens(n: number): string {
  return n >= 1_000_000
    ? `${(n / 1_000_000).toFixed(1)}M`
    : n >= 1000
      ? `${Math.round(n / 1000)}k`
      : String(n);
}

/** How many `path-not-taken` infos the summary prints before it counts the rest. */
const NOT_TAKEN_SHOWN = 5;
/** How many phases' dependency sources the summary prints. */
const EDGES_SHOWN = 12;

/** The "Reading:" section: which construct made the phases, which dependency rule applied, where each edge was stated. */
export function formatReading(analysis: Analysis): string[] {
  const reading = analysis.plan.reading;
  if (!reading) return [];
  const out = ['', 'Reading:', `  ${reading.phases}`];
  if (reading.subSteps !== '') out.push(`  ${reading.subSteps}`);
  out.push(`  ${reading.dependencies}`);
  // One entry per phase and statement: "P2 ← T1, T2 (line 882: phase headings state their dependencies)".
  const byPhase = new Map<string, Map<string, string[]>>();
  for (const e of reading.edges) {
    const statements = byPhase.get(e.phase) ?? new Map<string, string[]>();
    const key = `line ${e.line}: ${e.rule}`;
    statements.set(key, [...(statements.get(key) ?? []), e.dependsOn]);
    byPhase.set(e.phase, statements);
  }
  if (byPhase.size > 0 && analysis.dependencyRule === 'explicit') {
    out.push('  edges, with the line that states each:');
    for (const [phase, statements] of [...byPhase].slice(0, EDGES_SHOWN)) {
      const parts = [...statements].map(([where, deps]) => `${deps.join(', ')} (${where})`);
      out.push(`    ${phase} ← ${parts.join('; ')}`);
    }
    if (byPhase.size > EDGES_SHOWN)
      out.push(`    … ${byPhase.size - EDGES_SHOWN} more phases (all in --json, plan.reading.edges)`);
  }
  return out;
}

/** Renders the whole analysis as plain text, one section per concern; `environment` lines (setup) go before the estimate. */
export function formatAnalysisSummary(analysis: Analysis, environment: readonly string[] = []): string {
  const { plan } = analysis;
  const out: string[] = [];
  const titleById = new Map(analysis.streams.map((s) => [s.id, s.title]));
  out.push(`Plan: ${planTitle(plan.title) || plan.source} (${plan.source})`);
  out.push(
    `${plan.phases.length} phases → ${analysis.streams.length} streams · dependencies: ${analysis.dependencyRule} (${plan.dependencyRuleReason})`,
  );
  out.push(...formatReading(analysis));
  if (analysis.streams.length === 0) {
    // No phases: schedule and estimate sections would all be empty; say what to do instead.
    out.push('');
    out.push('Diagnostics:');
    for (const d of analysis.diagnostics) out.push(`  ${formatDiagnostic(d)}`);
    out.push('');
    out.push('Nothing to run: the plan has no phases. Run "maestro init" to see the plan format.');
    return out.join('\n') + '\n';
  }
  out.push('');
  out.push('Streams:');
  const idWidth = Math.max(2, ...analysis.streams.map((s) => s.id.length));
  for (const s of analysis.streams) {
    const deps = [...s.dependsOn, ...s.implicitDependsOn.map((d) => `${d} (shared file)`)];
    const fixes = s.criticalFixes.length > 0 ? ` · fixes ${s.criticalFixes.join(',')}` : '';
    out.push(
      `  ${s.id.padEnd(idWidth)}  ${s.title}  [${s.role}, ${s.files.length} file${s.files.length === 1 ? '' : 's'}${fixes}]` +
        (deps.length > 0 ? `  ← ${deps.join(', ')}` : ''),
    );
    const implied = s.impliedFiles ?? [];
    if (implied.length > 0) {
      const byManifest = new Map<string, string[]>();
      for (const f of implied) byManifest.set(f.because, [...(byManifest.get(f.because) ?? []), f.path]);
      const text = [...byManifest].map(([m, files]) => `${files.join(', ')} (with ${m})`).join('; ');
      out.push(`  ${''.padEnd(idWidth)}  implied: ${text}`);
    }
  }
  out.push('');
  out.push(`Waves (max ${analysis.maxParallel} in parallel):`);
  analysis.waves.forEach((wave, i) => {
    out.push(`  ${i + 1}. ${wave.join(', ')}`);
  });
  out.push('');
  out.push(
    `Critical path: ${analysis.criticalPath.map((id) => `${id} ${titleById.get(id) ?? ''}`.trim()).join(' → ') || '(none)'}`,
  );
  if (analysis.conflicts.length > 0) {
    out.push('');
    out.push('File conflicts:');
    for (const c of analysis.conflicts) {
      out.push(
        `  ${c.path}: ${c.streams.join(', ')} (${c.resolution === 'serialised' ? 'serialised in plan order' : 'reported only'})`,
      );
    }
  }
  if (environment.length > 0) {
    // How each worktree gets the project's dependencies (setup, .worktreeinclude).
    out.push('');
    out.push(...environment);
  }
  const e = analysis.estimate;
  out.push('');
  out.push(
    `Estimate (${e.model}): ${tokens(e.inputTokens)} input + ${tokens(e.outputTokens)} output tokens ≈ ${money(e.costUsd)}; ` +
      `wall time ${minutes(e.minutes.dynamic)} (dynamic), ${minutes(e.minutes.waves)} (waves), ${minutes(e.minutes.sequential)} (sequential)`,
  );
  if (analysis.diagnostics.length > 0) {
    out.push('');
    out.push('Diagnostics:');
    // Paths not taken are many in long plans: the first few here, all of them in --json.
    const notTaken = analysis.diagnostics.filter((d) => d.code === 'path-not-taken');
    const rank = { error: 0, warning: 1, info: 2 } as const;
    const sorted = [...analysis.diagnostics].sort((a, b) => rank[a.severity] - rank[b.severity]);
    for (const d of sorted)
      if (d.code !== 'path-not-taken' || notTaken.indexOf(d) < NOT_TAKEN_SHOWN)
        out.push(`  ${formatDiagnostic(d)}`);
    if (notTaken.length > NOT_TAKEN_SHOWN)
      out.push(
        `  … and ${notTaken.length - NOT_TAKEN_SHOWN} more path-like tokens not taken as files (all in --json, code path-not-taken)`,
      );
  }
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error').length;
  out.push('');
  out.push(
    errors > 0
      ? `${errors} error${errors === 1 ? '' : 's'}: fix the plan before running it.`
      : `Ready: maestro run ${plan.source}`,
  );
  return out.join('\n') + '\n';
}
