/**
 * Finds the plan's phases: the outermost units of work that repeat (headings, GSD `<task>`
 * elements, task-list items, or plain sections as a last resort), and the sub-steps inside them.
 */
import { GROUPING_KINDS, cleanTitle, isNonPhaseTitle, readUnitLabel, type UnitLabel } from './headings.js';
import type { MarkdownDoc } from './markdown.js';

/** A unit of work found in the text: a phase or one of its sub-steps. */
export interface Unit {
  /** The plan's own id (`1`, `2.1`, `DEV-A`, `#801`) or the position. */
  readonly id: string;
  /** The id as written, when `id` carries a prefix added to keep it unique (`1` for `T1`). */
  readonly localId?: string;
  /** Keyword or id prefix the plan used (`phase`, `task`, `DEV`, `numbered1`), or '' when none. */
  readonly kind: string;
  readonly title: string;
  readonly line: number;
  readonly endLine: number;
}

/** A phase with the sub-steps found in its body. */
export interface PhaseDraft extends Unit {
  readonly depth: number;
  readonly subSteps: readonly Unit[];
}

/** How the phases were found. */
export type PhaseStyle = 'heading' | 'xml-task' | 'list' | 'section' | 'none';

/** The phases and how they were written. */
export interface PhaseLayout {
  readonly phases: readonly PhaseDraft[];
  readonly style: PhaseStyle;
}

interface Candidate {
  readonly line: number;
  readonly depth: number;
  readonly label: UnitLabel;
}

function nextBoundary(doc: MarkdownDoc, fromIndex: number, depth: number): number {
  for (let i = fromIndex; i < doc.headings.length; i++) {
    const heading = doc.headings[i];
    if (heading && heading.depth <= depth) return heading.line - 1;
  }
  return doc.lines.length;
}

/** Trims trailing blank lines and thematic breaks so a phase ends on its last content line. */
function trimEnd(doc: MarkdownDoc, line: number, endLine: number): number {
  let end = endLine;
  while (end > line && /^\s*(?:[-*_]\s*){0,}$/.test(doc.lines[end - 1] ?? '')) end--;
  return end;
}

function groupRank(members: readonly Candidate[]): number[] {
  const first = members[0];
  if (!first) return [9];
  const numbered = first.label.style === 'numbered' ? 1 : 0;
  const grouping = GROUPING_KINDS.has(first.label.kind) ? 1 : 0;
  return [numbered, first.depth, grouping, -members.length];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The heading groups that could be the plan's phases, keyed by depth and unit word. */
function headingGroups(doc: MarkdownDoc): Candidate[][] {
  const groups = new Map<string, Candidate[]>();
  for (const heading of doc.headings) {
    const label = readUnitLabel(heading.text);
    if (!label) continue;
    // Numbered headings such as "## 5. Risks" are still non-work sections; keyword labels are not.
    if (label.style === 'numbered' && isNonPhaseTitle(label.title)) continue;
    const key = `${heading.depth}|${label.kind}`;
    const list = groups.get(key) ?? [];
    list.push({ line: heading.line, depth: heading.depth, label });
    groups.set(key, list);
  }
  return [...groups.values()];
}

/** The best-ranked group among `groups` with at least `minCount` members. */
function bestGroup(groups: readonly Candidate[][], minCount: number): Candidate[] | null {
  let best: Candidate[] | null = null;
  let bestRank: number[] = [];
  for (const members of groups) {
    if (members.length < minCount) continue;
    const style = members[0]?.label.style;
    // A lone numbered heading, or a lone "Section 4", is too weak to call a phase list.
    if (members.length === 1 && (style === 'numbered' || style === 'word')) continue;
    const rank = groupRank(members);
    if (!best || compareRanks(rank, bestRank) < 0) {
      best = members;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * Other unit words repeating at the chosen level join it (`## Phase 0`, `## Track 1…6`, `## Phase 2`):
 * the phases are the level's units whatever each calls itself.
 */
function mergeSiblingGroups(groups: readonly Candidate[][], chosen: Candidate[]): Candidate[] {
  const first = chosen[0];
  if (!first || first.label.style === 'numbered') return chosen;
  const siblings = groups.filter(
    (g) =>
      g !== chosen &&
      g.length >= 2 &&
      g[0]?.depth === first.depth &&
      g[0].label.style !== 'numbered' &&
      !GROUPING_KINDS.has(g[0].label.kind),
  );
  if (siblings.length === 0) return chosen;
  return [...chosen, ...siblings.flat()].sort((a, b) => a.line - b.line);
}

/**
 * A heading that only announces the siblings after it (`## Phase 1: Parallel tracks` followed by
 * `## Track 1`…) holds no work: no sub-headings and a short body before a sibling of another kind.
 */
function dropAnnouncing(doc: MarkdownDoc, members: readonly Candidate[]): Candidate[] {
  const kinds = new Set(members.map((m) => m.label.kind));
  if (kinds.size < 2) return [...members];
  return members.filter((member, i) => {
    const next = members[i + 1];
    const after = members[i + 2];
    if (!next || next.label.kind === member.label.kind) return true;
    // The announced units are several siblings of the other kind.
    if (!after || after.label.kind !== next.label.kind) return true;
    const index = firstAfter(doc.headings, member.line);
    const following = doc.headings[index];
    const hasSubHeadings = following !== undefined && following.line < next.line;
    const bodyLines = doc.lines
      .slice(member.line, next.line - 1)
      .filter((l) => l.trim() !== '' && !/^\s*(?:[-*_]\s*){3,}$/.test(l)).length;
    return hasSubHeadings || bodyLines > 3;
  });
}

/** When ids collide across unit words, each id gets its word's initial (`P0`, `T1`, `P2`). */
function disambiguateIds(members: readonly Candidate[]): Candidate[] {
  const kinds = new Set(members.map((m) => m.label.kind));
  const ids = members.map((m) => m.label.id);
  if (kinds.size < 2 || new Set(ids).size === ids.length) return [...members];
  const initials = new Set([...kinds].map((k) => k[0] ?? ''));
  const prefix = (kind: string): string =>
    initials.size === kinds.size ? (kind[0] ?? '').toUpperCase() : kind.replace(/\s+/g, '-');
  return members.map((m) =>
    /^[A-Za-z]/.test(m.label.id) && m.label.style === 'id'
      ? m
      : { ...m, label: { ...m.label, localId: m.label.id, id: prefix(m.label.kind) + m.label.id } },
  );
}

const LIST_STEP_RE = /^(?:(T\d+|\d+(?:\.\d+)*)[.)]?\s+)/;

/** First index in a line-sorted array whose line is greater than `line` (binary search). */
function firstAfter(items: readonly { line: number }[], line: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((items[mid]?.line ?? 0) <= line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function subStepsIn(doc: MarkdownDoc, line: number, endLine: number, depth: number): Unit[] {
  const steps: Unit[] = [];
  const inside: MarkdownDoc['headings'][number][] = [];
  for (let i = firstAfter(doc.headings, line); i < doc.headings.length; i++) {
    const h = doc.headings[i];
    if (!h || h.line > endLine) break;
    if (h.depth > depth) inside.push(h);
  }
  inside.forEach((heading, index) => {
    const label = readUnitLabel(heading.text);
    if (!label) return;
    let end = endLine;
    for (const later of inside.slice(index + 1)) {
      if (later.depth <= heading.depth) {
        end = later.line - 1;
        break;
      }
    }
    steps.push({ id: label.id, kind: label.kind, title: label.title, line: heading.line, endLine: end });
  });
  for (let i = firstAfter(doc.listItems, line); i < doc.listItems.length; i++) {
    const item = doc.listItems[i];
    if (!item || item.line > endLine) break;
    const text = cleanTitle(item.text);
    const match = LIST_STEP_RE.exec(text);
    if (!match?.[1]) continue;
    const id = match[1];
    steps.push({
      id,
      kind: id.startsWith('T') ? 'T' : 'numbered-item',
      title: text.slice(match[0].length),
      line: item.line,
      endLine: item.endLine,
    });
  }
  return steps.sort((a, b) => a.line - b.line);
}

function fromHeadings(doc: MarkdownDoc, members: readonly Candidate[]): PhaseDraft[] {
  return members.map((member) => {
    const index = firstAfter(doc.headings, member.line) - 1;
    const end = trimEnd(doc, member.line, nextBoundary(doc, index + 1, member.depth));
    return {
      id: member.label.id,
      ...(member.label.localId !== undefined ? { localId: member.label.localId } : {}),
      kind: member.label.kind,
      title: member.label.title,
      line: member.line,
      endLine: end,
      depth: member.depth,
      subSteps: subStepsIn(doc, member.line, end, member.depth),
    };
  });
}

/** GSD-style plans describe tasks as `<task><name>Task 1: …</name><files>…</files></task>`. */
function fromXmlTasks(doc: MarkdownDoc): PhaseDraft[] {
  const phases: PhaseDraft[] = [];
  let open: { line: number; nameLine: number; name: string } | null = null;
  doc.lines.forEach((text, index) => {
    const line = index + 1;
    if (/^\s*<task\b[^>]*>/.test(text)) open = { line, nameLine: line, name: '' };
    const nameMatch = /<name>(.*?)<\/name>/.exec(text);
    if (open && nameMatch && open.name === '') {
      open.name = nameMatch[1] ?? '';
      open.nameLine = line;
    }
    if (open && /<\/task>/.test(text)) {
      const label = readUnitLabel(open.name);
      phases.push({
        id: label && label.style !== 'numbered' ? label.id : String(phases.length + 1),
        kind: label?.kind ?? 'numbered-item',
        title: label?.title ?? cleanTitle(open.name),
        line: open.nameLine,
        endLine: line,
        depth: 0,
        subSteps: [],
      });
      open = null;
    }
  });
  return phases;
}

function sectionTitleAt(doc: MarkdownDoc, line: number): string | null {
  let title: string | null = null;
  for (const heading of doc.headings) {
    if (heading.line > line) break;
    title = heading.text;
  }
  return title;
}

/** Task lists (`- [ ] 1. Title`) or numbered lists of work when the plan has no phase headings. */
function fromListItems(doc: MarkdownDoc): PhaseDraft[] {
  const items = doc.listItems.filter((item) => {
    if (item.checked === null && item.ordinal === null) return false;
    const section = sectionTitleAt(doc, item.line);
    // A "Tasks" or "Plan" section holds the work itself.
    return (
      section === null ||
      !isNonPhaseTitle(section) ||
      /^\W*(?:tasks?|plan|todo|steps|implementation)\b/i.test(section)
    );
  });
  if (items.length < 2) return [];
  return items.map((item, index) => {
    const text = cleanTitle(item.text);
    const label = readUnitLabel(text);
    const id = label ? label.id : item.ordinal !== null ? String(item.ordinal) : String(index + 1);
    return {
      id,
      kind: label?.kind ?? 'numbered-item',
      title: label?.title ?? text,
      line: item.line,
      endLine: item.endLine,
      depth: 0,
      subSteps: subStepsIn(doc, item.line, item.endLine, 99),
    };
  });
}

/** Plain `##` sections, for plans that list their steps without numbering them. */
function fromSections(doc: MarkdownDoc): PhaseDraft[] {
  for (const depth of [2, 3]) {
    const members = doc.headings.filter((h) => h.depth === depth && !isNonPhaseTitle(h.text));
    if (members.length < 2) continue;
    return members.map((heading, index) => {
      const headingIndex = doc.headings.indexOf(heading);
      const end = trimEnd(doc, heading.line, nextBoundary(doc, headingIndex + 1, depth));
      return {
        id: String(index + 1),
        kind: '',
        title: cleanTitle(heading.text),
        line: heading.line,
        endLine: end,
        depth,
        subSteps: subStepsIn(doc, heading.line, end, depth),
      };
    });
  }
  return [];
}

/** Finds the plan's phases and their sub-steps. */
export function findPhases(doc: MarkdownDoc): PhaseLayout {
  const groups = headingGroups(doc);
  const group = bestGroup(groups, 2);
  if (group) {
    const members = disambiguateIds(dropAnnouncing(doc, mergeSiblingGroups(groups, group)));
    return { phases: fromHeadings(doc, members), style: 'heading' };
  }
  const xml = fromXmlTasks(doc);
  if (xml.length > 0) return { phases: xml, style: 'xml-task' };
  const listed = fromListItems(doc);
  if (listed.length > 0) return { phases: listed, style: 'list' };
  // A lone unit heading (often the document's title, `# Story 3.1`) only when nothing repeats.
  const single = bestGroup(groups, 1);
  if (single) return { phases: fromHeadings(doc, single), style: 'heading' };
  const sections = fromSections(doc);
  if (sections.length > 0) return { phases: sections, style: 'section' };
  return { phases: [], style: 'none' };
}
