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
  /** The construct that made the phases, in words, with its lines. */
  readonly construct: string;
  /** What the sub-steps inside the phases are, in words ('' when none). */
  readonly subSteps: string;
  /** Another plausible reading of the phase level, when there is one. */
  readonly alternative: PhaseAlternative | null;
}

/** A reading the parser did not choose, and the setting that would choose it. */
export interface PhaseAlternative {
  /** The other reading, in words. */
  readonly description: string;
  /** Line where the two readings part. */
  readonly line: number;
  /** The `phaseLevel` value that states the other reading. */
  readonly phaseLevel: string;
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
/** Struck through (`~~Phase 3~~`) or marked CANCELLED / DROPPED: work the plan took back. */
const CANCELLED_RE = /^\s*~~.+~~|\b(?:cancell?ed|dropped|abandoned|won[’']?t do|scrapped)\b/i;

/** A unit of work the plan cancelled: left out of the phases, and reported. */
export interface CancelledUnit {
  readonly line: number;
  readonly endLine: number;
  readonly title: string;
}

/** Unit headings the plan struck through or marked cancelled, with the lines their sections span. */
export function cancelledUnits(doc: MarkdownDoc): CancelledUnit[] {
  const out: CancelledUnit[] = [];
  doc.headings.forEach((heading, index) => {
    if (!CANCELLED_RE.test(heading.text)) return;
    const label = readUnitLabel(heading.text.replace(/~~/g, ''));
    if (!label) return;
    const end = nextBoundary(doc, index + 1, heading.depth);
    out.push({ line: heading.line, endLine: end, title: cleanTitle(heading.text.replace(/~~/g, '')) });
  });
  return out;
}

function headingGroups(doc: MarkdownDoc): Candidate[][] {
  const groups = new Map<string, Candidate[]>();
  for (const heading of doc.headings) {
    if (CANCELLED_RE.test(heading.text)) continue;
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
  // Task items (checkboxes, `Task N:` / `T01` labels) are the work; a plain numbered list beside them
  // (conventions, instructions) is not.
  const labelled = items.filter((item) => {
    const label = readUnitLabel(cleanTitle(item.text));
    return item.checked !== null || (label !== null && label.style !== 'numbered');
  });
  const units = labelled.length >= 2 ? labelled : items;
  if (units.length < 2) return [];
  return units.map((item, index) => {
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

/** The heading on `line`, by binary search (headings are in document order). */
function headingAt(doc: MarkdownDoc, line: number): MarkdownDoc['headings'][number] | undefined {
  const heading = doc.headings[firstAfter(doc.headings, line) - 1];
  return heading?.line === line ? heading : undefined;
}

/** `1, 2, 3` or `12, 40, 71, …` for a description. */
function lineList(lines: readonly number[]): string {
  const shown = lines.length > 8 ? [...lines.slice(0, 6).map(String), '…'] : lines.map(String);
  return `line${lines.length === 1 ? '' : 's'} ${shown.join(', ')}`;
}

/** How a unit heading is written, with its id as `N`: `### Section N:`, `## U<n>`, `## N.`. */
function headingPattern(doc: MarkdownDoc, member: Candidate): string {
  const hashes = '#'.repeat(member.depth);
  const { label } = member;
  if (label.style === 'numbered') return `${hashes} N.`;
  if (label.style === 'id') return `${hashes} ${/^[A-Za-z]+-?/.exec(label.id)?.[0] ?? ''}<n>`;
  const text = cleanTitle(headingAt(doc, member.line)?.text ?? '');
  const id = label.localId ?? label.id;
  const at = text.indexOf(id);
  if (at < 0) return `${hashes} ${label.kind} N`;
  const after = /^\s*[:.)\-—–]?/.exec(text.slice(at + id.length))?.[0].trim() ?? '';
  return `${hashes} ${text.slice(0, at)}N${after}`;
}

/** "the 4 `### Terminal N:` headings (lines 12, 40, 71, 99)". */
function describeHeadings(doc: MarkdownDoc, members: readonly Candidate[]): string {
  const patterns = [...new Set(members.map((m) => headingPattern(doc, m)))];
  return `the ${members.length} ${patterns.map((p) => `\`${p}\``).join(' / ')} heading${
    members.length === 1 ? '' : 's'
  } (${lineList(members.map((m) => m.line))})`;
}

/** The sub-steps found inside the phases, in words. */
function describeSubSteps(doc: MarkdownDoc, phases: readonly PhaseDraft[]): string {
  const kinds = new Map<string, number>();
  for (const phase of phases)
    for (const step of phase.subSteps) {
      const heading = headingAt(doc, step.line);
      const label = heading ? readUnitLabel(heading.text) : null;
      const name =
        heading && label
          ? `\`${headingPattern(doc, { line: step.line, depth: heading.depth, label })}\` headings`
          : step.kind === 'T'
            ? 'the `T<n>` list items'
            : 'the numbered list items';
      kinds.set(name, (kinds.get(name) ?? 0) + 1);
    }
  if (kinds.size === 0) return '';
  return `${[...kinds.keys()].join(' and ')} under them are their sub-steps (their files and dependencies belong to the phase)`;
}

/** True when the heading sits under a non-work section (an appendix, the risks…). */
function inNonWorkSection(doc: MarkdownDoc, member: Candidate): boolean {
  for (let i = firstAfter(doc.headings, member.line) - 2; i >= 0; i--) {
    const h = doc.headings[i];
    if (h && h.depth < member.depth) return isNonPhaseTitle(h.text);
  }
  return false;
}

/** Groups that could be the phases instead: they repeat and lie outside the chosen phases. */
function competingGroup(
  doc: MarkdownDoc,
  groups: readonly Candidate[][],
  chosen: readonly Candidate[],
  phases: readonly PhaseDraft[],
): PhaseAlternative | null {
  // Phases are in document order and do not overlap: a binary search keeps this linear overall.
  const inside = (line: number): boolean => {
    const at = firstAfter(phases, line) - 1;
    const phase = phases[at];
    return phase !== undefined && line <= phase.endLine;
  };
  const chosenKinds = new Set(chosen.map((c) => `${c.depth}|${c.label.kind}`));
  // Several unit words read as one level: the other reading takes only the most common one.
  if (chosenKinds.size > 1) {
    const chosenLines = new Set(chosen.map((c) => c.line));
    const levelGroups = groups.filter((g) => g[0] && chosenKinds.has(`${g[0].depth}|${g[0].label.kind}`));
    // The announcing heading's own kind is the reading a keyword-minded reader takes (`## Phase N` only).
    const withDropped = levelGroups.find((g) => g.some((m) => !chosenLines.has(m.line)));
    const main = withDropped ?? [...levelGroups].sort((a, b) => b.length - a.length)[0];
    const first = main?.[0];
    if (main && first) {
      const dropped = main.filter((m) => !chosenLines.has(m.line));
      const note =
        dropped.length > 0
          ? `, with the headings after ${dropped.map((m) => `line ${m.line}`).join(', ')} as its parts (read now as only announcing them)`
          : '';
      return {
        description: `only ${describeHeadings(doc, main)}${note}`,
        line: (dropped[0] ?? first).line,
        phaseLevel: headingPattern(doc, first).replace(/\s*N.*$/, ''),
      };
    }
  }
  let best: Candidate[] | null = null;
  const chosenIds = new Set(chosen.map((c) => `${c.label.kind}|${c.label.localId ?? c.label.id}`));
  for (const g of groups) {
    const first = g[0];
    if (!first || g.length < 2 || chosen.includes(first) || GROUPING_KINDS.has(first.label.kind)) continue;
    // Numbered headings around keyword units are the document's sections (the ranking's rule).
    if (first.label.style === 'numbered' && chosen[0]?.label.style !== 'numbered') continue;
    // The same units named again (a checklist or summary of the phases) are a recap, not another level.
    if (g.every((m) => chosenIds.has(`${m.label.kind}|${m.label.id}`))) continue;
    const outside = g.filter((m) => !inside(m.line) && !inNonWorkSection(doc, m));
    if (outside.length < 2) continue;
    if (!best || g.length > best.length) best = g;
  }
  if (!best?.[0]) return null;
  return {
    description: describeHeadings(doc, best),
    line: best[0].line,
    phaseLevel: headingPattern(doc, best[0]).replace(/\s*N.*$|<n>$/, ''),
  };
}

/** Reads a `phaseLevel` setting (`"## Track"`, `"### Task"`, `"##"`) into a heading depth and unit word. */
function parsePhaseLevel(level: string): { depth: number; word: string } | null {
  const match = /^\s*(#{1,6})\s*([A-Za-z][\w -]*?)?\s*$/.exec(level);
  if (!match) return null;
  return { depth: match[1]?.length ?? 2, word: (match[2] ?? '').toLowerCase() };
}

/** The phases a `phaseLevel` setting names: headings of that depth, starting with that word. */
function fromPhaseLevel(doc: MarkdownDoc, level: { depth: number; word: string }): PhaseDraft[] {
  const members: Candidate[] = [];
  for (const heading of doc.headings) {
    if (heading.depth !== level.depth) continue;
    const label = readUnitLabel(heading.text);
    const text = cleanTitle(heading.text);
    if (level.word !== '' && !text.toLowerCase().startsWith(level.word)) continue;
    members.push({
      line: heading.line,
      depth: heading.depth,
      label: label ?? { style: 'word', kind: level.word, id: String(members.length + 1), title: text },
    });
  }
  const ids = members.map((m) => m.label.id);
  const unique =
    new Set(ids).size === ids.length
      ? members
      : members.map((m, i) => ({ ...m, label: { ...m.label, id: String(i + 1) } }));
  return fromHeadings(doc, disambiguateIds(unique));
}

/** Finds the plan's phases and their sub-steps; `phaseLevel` (from settings) names the level outright. */
export function findPhases(doc: MarkdownDoc, phaseLevel?: string): PhaseLayout {
  const groups = headingGroups(doc);
  const level = phaseLevel === undefined ? null : parsePhaseLevel(phaseLevel);
  if (level) {
    const phases = fromPhaseLevel(doc, level);
    return {
      phases,
      style: 'heading',
      construct: `the ${phases.length} \`${phaseLevel?.trim() ?? ''}\` headings the plan settings name as its phases (${lineList(phases.map((p) => p.line))})`,
      subSteps: describeSubSteps(doc, phases),
      alternative: null,
    };
  }
  const group = bestGroup(groups, 2);
  if (group) {
    const members = disambiguateIds(dropAnnouncing(doc, mergeSiblingGroups(groups, group)));
    const phases = fromHeadings(doc, members);
    return {
      phases,
      style: 'heading',
      construct: describeHeadings(doc, members),
      subSteps: describeSubSteps(doc, phases),
      alternative: competingGroup(doc, groups, members, phases),
    };
  }
  const xml = fromXmlTasks(doc);
  if (xml.length > 0)
    return {
      phases: xml,
      style: 'xml-task',
      construct: `the ${xml.length} \`<task>\` elements (${lineList(xml.map((p) => p.line))})`,
      subSteps: '',
      alternative: null,
    };
  const listed = fromListItems(doc);
  if (listed.length > 0) {
    const single = bestGroup(groups, 1);
    return {
      phases: listed,
      style: 'list',
      construct: `the ${listed.length} ${listed.some((p) => p.kind !== 'numbered-item') ? 'labelled ' : ''}list items (${lineList(listed.map((p) => p.line))})`,
      subSteps: describeSubSteps(doc, listed),
      // A lone heading below the title (`## Story 3`) could be meant as the one phase; a lone `#` is the title.
      alternative:
        single?.[0] !== undefined && single[0].depth > 1
          ? {
              description: `${describeHeadings(doc, single)} as one phase`,
              line: single[0].line,
              phaseLevel: headingPattern(doc, single[0]).replace(/\s*N.*$|<n>$/, ''),
            }
          : null,
    };
  }
  // A lone unit heading (often the document's title, `# Story 3.1`) only when nothing repeats.
  const single = bestGroup(groups, 1);
  if (single) {
    const phases = fromHeadings(doc, single);
    return {
      phases,
      style: 'heading',
      construct: describeHeadings(doc, single),
      subSteps: describeSubSteps(doc, phases),
      alternative: null,
    };
  }
  const sections = fromSections(doc);
  if (sections.length > 0)
    return {
      phases: sections,
      style: 'section',
      construct: `the ${sections.length} \`${'#'.repeat(sections[0]?.depth ?? 2)}\` sections, since no heading or list item is numbered as a unit of work (${lineList(sections.map((p) => p.line))})`,
      subSteps: describeSubSteps(doc, sections),
      alternative: null,
    };
  return {
    phases: [],
    style: 'none',
    construct: 'nothing: no headings or list items read as units of work',
    subSteps: '',
    alternative: null,
  };
}
