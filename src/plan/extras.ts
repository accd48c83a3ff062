/**
 * Per-phase extras: validation commands (`Validation:`, `Verify:`, `Test:`, shell blocks under such
 * a label or heading, GSD `<automated>`), agent hints (`Agent:`, `Role:`, `Model:`) and critical
 * fixes (a "Critical fixes" / "Code review findings" / "Requirements" section, `Critical:` items).
 */
import type { AgentHints, CriticalFix, ValidationCommand } from './types.js';
import type { MarkdownDoc } from './markdown.js';
import type { PhaseDraft } from './phases.js';
import type { RefIndex } from './references.js';
import { cleanTitle } from './headings.js';

const VALIDATION_LABEL_RE =
  /^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?:validation|validate|verify|verification|tests?|test command|check)(?:\*\*|__)?\s*[:：](?:\*\*|__)?\s*(.*)$/i;
const VALIDATION_HEADING_RE = /^#{1,6}\s+.*\b(?:validation|verify|verification|tests?|testing|checks?)\b/i;
const SHELL_LANGS = new Set(['', 'sh', 'bash', 'shell', 'console', 'zsh', 'powershell', 'ps1', 'cmd']);
const HINT_RE =
  /^\s*(?:[-*+]\s+)?(?:\*\*|__)?(agent|role|model|owner)(?:\*\*|__)?\s*[:：](?:\*\*|__)?\s*(.+)$/i;
const FIX_SECTION_RE =
  /\b(?:critical fix(?:es)?|fixes|code review|review findings|findings|must[- ]fix|requirements|blocking issues)\b/i;
const CRITICAL_LABEL_RE =
  /^\s*(?:[-*+]\s+)?(?:\*\*|__)?critical(?: fix)?(?:\*\*|__)?\s*[:：](?:\*\*|__)?\s*(.+)$/i;

function commandsOfBlock(value: string, line: number): ValidationCommand[] {
  return value
    .split('\n')
    .map((text, offset) => ({ command: text.replace(/^\s*\$\s+/, '').trim(), line: line + 1 + offset }))
    .filter((c) => c.command !== '' && !c.command.startsWith('#'));
}

/** Validation commands found in lines `from`..`to`. */
export function readValidation(
  doc: MarkdownDoc,
  from: number,
  to: number,
  skip?: (line: number) => boolean,
): ValidationCommand[] {
  const commands: ValidationCommand[] = [];
  let armedUntil = -1;
  for (let line = from; line <= to; line++) {
    if (skip?.(line) === true) continue;
    const text = doc.lines[line - 1] ?? '';
    const block = doc.inCode[line] === true ? doc.codeBlocks.find((b) => b.line === line) : undefined;
    if (block) {
      if (line <= armedUntil && SHELL_LANGS.has(block.lang))
        commands.push(...commandsOfBlock(block.value, block.line));
      line = block.endLine;
      continue;
    }
    if (doc.inCode[line] === true) continue;
    const automated = /<automated>(.*?)<\/automated>/.exec(text);
    if (automated?.[1]) commands.push({ command: automated[1].trim(), line });
    const label = VALIDATION_LABEL_RE.exec(text);
    if (label) {
      const inline = [...(label[1] ?? '').matchAll(/`([^`]+)`/g)]
        .map((m) => m[1] ?? '')
        .filter((c) => /\s/.test(c));
      for (const command of inline) commands.push({ command, line });
      if (inline.length === 0) armedUntil = line + 3;
      continue;
    }
    if (VALIDATION_HEADING_RE.test(text)) armedUntil = line + 4;
    else if (/^#{1,6}\s/.test(text)) armedUntil = -1;
  }
  return commands;
}

/** Agent hints stated in lines `from`..`to` (the first of each kind wins). */
export function readHints(doc: MarkdownDoc, from: number, to: number): AgentHints {
  const hints: { role?: string; agent?: string; model?: string } = {};
  for (let line = from; line <= to; line++) {
    if (doc.inCode[line] === true) continue;
    const match = HINT_RE.exec(doc.lines[line - 1] ?? '');
    if (!match) continue;
    const key = (match[1] ?? '').toLowerCase();
    const value =
      cleanTitle(match[2] ?? '')
        .split(/\s+[—–(]|\s+-\s/)[0]
        ?.trim() ?? '';
    if (value === '') continue;
    if (key === 'model') hints.model ??= value;
    else if (key === 'role') hints.role ??= value;
    else hints.agent ??= value;
  }
  return hints;
}

/** Critical fixes: items of fix sections outside phases, and `Critical:` lines inside phases. */
export function readCriticalFixes(
  doc: MarkdownDoc,
  phases: readonly PhaseDraft[],
  phaseOfLine: (line: number) => number,
  index: RefIndex,
  filePhases: ReadonlyMap<string, readonly number[]>,
): CriticalFix[] {
  const fixes: { text: string; line: number; ownId: string | null; phases: Set<number> }[] = [];
  const attach = (text: string): Set<number> => {
    const out = new Set<number>();
    for (const found of index.find(text)) out.add(found.ref.phase);
    for (const match of text.matchAll(/`([^`]+)`/g)) {
      const path = (match[1] ?? '').replace(/^\.\//, '');
      for (const p of filePhases.get(path) ?? []) out.add(p);
    }
    return out;
  };
  let sectionDepth = 0;
  for (let line = 1; line <= doc.lines.length; line++) {
    if (doc.inCode[line] === true) continue;
    const text = doc.lines[line - 1] ?? '';
    const heading = /^(#{1,6})\s+(.*)$/.exec(text);
    const owner = phaseOfLine(line);
    if (heading) {
      const depth = heading[1]?.length ?? 0;
      if (owner === -1 && FIX_SECTION_RE.test(heading[2] ?? '')) sectionDepth = depth;
      else if (depth <= sectionDepth) sectionDepth = 0;
      continue;
    }
    if (owner !== -1) {
      const critical = CRITICAL_LABEL_RE.exec(text);
      if (critical)
        fixes.push({ text: cleanTitle(critical[1] ?? ''), line, ownId: null, phases: new Set([owner]) });
      continue;
    }
    const item = sectionDepth > 0 ? /^(?:[-*+]|\d+[.)])\s+(.*)$/.exec(text) : null;
    if (item) {
      // A fix often wraps onto indented continuation lines ("… before they touch the\n   disk (Phase 3)").
      let body = item[1] ?? '';
      while (line < doc.lines.length && doc.inCode[line + 1] !== true) {
        const next = doc.lines[line] ?? '';
        if (!/^\s+\S/.test(next) || /^\s*(?:[-*+]|\d+[.)])\s/.test(next)) break;
        body += ` ${next.trim()}`;
        line++;
      }
      const ownId = /^(?:\*\*|__)?([A-Z][A-Z0-9]*-\d+|[A-Z]\d+)(?:\*\*|__)?[:.)\s]/.exec(body)?.[1] ?? null;
      fixes.push({ text: cleanTitle(body), line, ownId, phases: attach(body) });
    }
  }
  const used = new Set<string>();
  return fixes.map((fix, i) => {
    let id = fix.ownId ?? `C${i + 1}`;
    while (used.has(id)) id = `${id}-${i + 1}`;
    used.add(id);
    return {
      id,
      text: fix.text,
      line: fix.line,
      phases: [...fix.phases].sort((a, b) => a - b).map((p) => phases[p]?.id ?? ''),
    };
  });
}
