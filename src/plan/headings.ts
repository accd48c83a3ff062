/**
 * Recognises how a plan labels its units of work in a heading or list item:
 * `Phase 2: Title`, `Step 3 — Title`, `Task 1.2: Title`, `W1: Title`, `DEV-A: Title`, `1. Title`.
 */

/** How a unit label was written. */
/**
 * `keyword`: a known unit word (`Phase 2`); `id`: an id scheme (`T012`, `DEV-A`); `word`: any other
 * capitalised word before an id (`Section 4`, `Checkpoint 2`, `Terminal 1`), a unit only when it repeats;
 * `numbered`: a bare number (`3. Title`).
 */
export type LabelStyle = 'keyword' | 'id' | 'word' | 'numbered';

/** A recognised unit label: `kind` is the keyword (`phase`, `task`…), the id prefix (`DEV`) or `numbered`. */
export interface UnitLabel {
  readonly style: LabelStyle;
  readonly kind: string;
  readonly id: string;
  /** The id as the plan wrote it, when `id` was prefixed to keep ids unique (`1` for `T1`). */
  readonly localId?: string;
  readonly title: string;
}

/** Words plans use for their units of work. Longer alternatives first so `user story` wins over `story`. */
export const UNIT_KEYWORDS = [
  'user story',
  'workstream',
  'milestone',
  'iteration',
  'deliverable',
  'ticket',
  'sprint',
  'stream',
  'stage',
  'phase',
  'batch',
  'chunk',
  'round',
  'story',
  'issue',
  'group',
  'step',
  'part',
  'task',
  'wave',
  'tier',
  'item',
  'epic',
] as const;

/** Kinds that schedule other units rather than describe work (a wave groups tasks). */
export const GROUPING_KINDS: ReadonlySet<string> = new Set(['wave', 'tier', 'batch', 'round']);

const KEYWORD_RE = new RegExp(
  `^(${UNIT_KEYWORDS.join('|')})\\s*(#?\\d+[a-z]?(?:\\.\\d+)*|[A-Z](?![A-Za-z]))(?:\\s*[:.)|\\-—–]+\\s*|(?=\\s*\\()|\\s*$)(.*)$`,
  'i',
);
const ID_RE = /^([A-Z][A-Za-z]*-[A-Z0-9]+|[A-Z]{1,3}\d+[a-z]?)(?:\s*[:.)|\-—–]+\s*|\s+(?=\S)|\s*$)(.*)$/;
const NUMBERED_RE = /^(\d+(?:\.\d+)*)(?:\.|\))?\s+(\S.*)$/;
/** `Section 4: Title`, `Task Group 1.2 - Title`: one or two capitalised words, then an id. */
const WORD_RE =
  /^([A-Z][a-z]{2,}(?: [A-Z][a-z]+)?)\s+(\d+[a-z]?(?:\.\d+)*|[A-Z](?![A-Za-z]))(?:\s*[:.)|\-—–]+\s*|\s*$)(.*)$/;
/** "After Phase 1", "Before Step 2": a heading about a unit, not a unit. */
const CONNECTIVE_RE =
  /^(?:after|before|until|from|with|by|for|during|since|per|into|onto|upon|the|and|or|then|when|once|see|via|post|pre)$/i;
/** Words before a number that name references or alternatives, not units of work. */
const NOT_UNIT_WORDS =
  /^(?:option|alternative|example|appendix|figure|fig|table|question|scenario|risk|note|level|version|release|rule|principle|constraint|assumption|decision|finding|problem|gap|concern|requirement|criterion|criteria|goal|objective|attempt|case|listing|exhibit|footnote|type|error)$/i;

/** Leading/trailing decoration: emoji, status ticks, checkboxes. */
const DECORATION_RE = /^(?:[\p{Extended_Pictographic}\p{So}✓✔✗✘☐☑]|\uFE0F|\u200D|\[[ xX✓✔]?\]|\s)+/u;
const TRAILING_DECORATION_RE = /(?:[\p{Extended_Pictographic}✓✔✗✘☐☑]|\uFE0F|\u200D|\s)+$/u;

/** Removes status emoji and markup left around a heading's text. */
export function cleanTitle(text: string): string {
  return text
    .replace(/[*_]{1,3}([^*_]+)[*_]{1,3}/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(DECORATION_RE, '')
    .replace(TRAILING_DECORATION_RE, '')
    .trim();
}

/** Reads a unit label from heading or list-item text, or null when the text is not one. */
export function readUnitLabel(rawText: string): UnitLabel | null {
  const text = cleanTitle(rawText);
  const keyword = KEYWORD_RE.exec(text);
  if (keyword) {
    const [, kindWord = '', id = '', rest = ''] = keyword;
    // "Tasks" is a plural, not "Task s": letter ids are capitals ("Phase A").
    if (/^[a-z]$/.test(id)) return null;
    return { style: 'keyword', kind: kindWord.toLowerCase(), id, title: cleanTitle(rest) || text };
  }
  const idMatch = ID_RE.exec(text);
  if (idMatch) {
    const [, id = '', rest = ''] = idMatch;
    const prefix = /^[A-Za-z]+/.exec(id)?.[0] ?? id;
    return { style: 'id', kind: prefix.toUpperCase(), id, title: cleanTitle(rest) || text };
  }
  const word = WORD_RE.exec(text);
  const firstWord = (word?.[1] ?? '').split(' ')[0] ?? '';
  if (
    word &&
    !NOT_UNIT_WORDS.test(word[1] ?? '') &&
    !NOT_UNIT_WORDS.test(firstWord) &&
    !CONNECTIVE_RE.test(firstWord)
  ) {
    const [, kindWord = '', id = '', rest = ''] = word;
    return { style: 'word', kind: kindWord.toLowerCase(), id, title: cleanTitle(rest) || text };
  }
  const numbered = NUMBERED_RE.exec(text);
  if (numbered) {
    const [, id = '', rest = ''] = numbered;
    return { style: 'numbered', kind: `numbered${id.split('.').length}`, id, title: cleanTitle(rest) };
  }
  return null;
}

/** Sections that describe the plan rather than being work (recognised by their title's first words). */
const NON_PHASE_RE =
  /^(?:overview|context|background|introduction|intro|summary|executive summary|tl;?dr|goals?|non[- ]goals|objectives?|motivation|problem(?: statement)?|architecture|design decisions?|risks?|risk (?:register|assessment|mitigation|analysis)|rollback|testing(?: strategy| approach| plan| checklist)?$|test (?:plan|strategy)|success (?:criteria|metrics)|acceptance criteria|definition of done|open questions|questions|timeline|schedule|estimates?|effort|appendix|notes?|references?|glossary|resources|dependencies|dependency (?:graph|matrix|map)|file (?:structure|ownership|changes?|map)|files to (?:create|modify|change)|table of contents|contents|toc|conclusion|assumptions|decisions|scope|out of scope|current state|status|progress|changelog|future work|alternatives?|prerequisites|requirements|format|conventions|verification|validation|checklist|deliverables|exit criteria|outcome|done when|implementation (?:strategy|order|notes)|execution (?:strategy|order|model|handoff|timeline)|parallelization|self[- ]review|review|todo|tasks?$|plan$|vision|metrics|monitoring|security considerations|open issues|faq|related|see also|benefits|post[- ]migration|critical fixes|code review)\b/i;

/** True when a section title names a non-work section (Overview, Risks, Rollback…). */
export function isNonPhaseTitle(title: string): boolean {
  return NON_PHASE_RE.test(cleanTitle(title).replace(/^\d+(?:\.\d+)*[.)]?\s+/, ''));
}
