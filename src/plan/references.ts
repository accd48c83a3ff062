/**
 * Resolves the ways a plan refers to its own units: `Phase 2`, `Phases 1 and 3`, `Task 2.1`,
 * `T4-6`, `W3`, `DEV-A`, `#801`, `US1`/`User Story 1`, bare numbers in a dependency field, titles.
 */
import type { PhaseDraft, Unit } from './phases.js';
import { UNIT_KEYWORDS } from './headings.js';

/** A phase, or one of its sub-steps. */
export interface UnitRef {
  readonly phase: number;
  /** Index into the phase's sub-steps, or null for the phase itself. */
  readonly sub: number | null;
}

/** A reference found in text, with its span. */
export interface FoundRef {
  readonly ref: UnitRef;
  readonly start: number;
  readonly end: number;
  readonly raw: string;
}

/** Options for `RefIndex.find`. */
export interface FindOptions {
  /** Read bare numbers (`Depends on: 2, 3`) as ids; only in fields that hold references. */
  readonly bareNumbers?: boolean;
  /** Kind to try first for bare numbers (`tasks: [3, 4]` means tasks, not phases). */
  readonly preferKind?: string;
}

/** Normalises an alias: lower case, no spaces, no leading zeros in numbers (`T001` = `t1`). */
export function aliasKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, '')
    .replace(/(^|\D)0+(\d)/g, '$1$2');
}

const LIST_SEP = String.raw`\s*(?:,|&|\+|/|\band\b|\bor\b|-|–|\bto\b|\bthrough\b)\s*`;
const ID_TOKEN = String.raw`#?\d+[a-z]?(?:\.\d+)*`;
const STANDALONE_RE =
  /#\d+\b|\b[A-Z]{1,3}\d+\s*[-–]\s*[A-Z]{1,3}\d+\b|\b[A-Z][A-Za-z]*-[A-Z0-9]+\b|\b[A-Z]{1,3}\d+[a-z]?(?:\s*[-–]\s*\d+\b)?/g;

function normaliseTitle(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function expandRange(from: string, to: string): string[] {
  const a = Number(from);
  const b = Number(to);
  if (!Number.isInteger(a) || !Number.isInteger(b) || b < a || b - a > 200) return [from, to];
  const out: string[] = [];
  for (let n = a; n <= b; n++) out.push(String(n));
  return out;
}

/** Splits `1, 2 and 4-6` into ids, expanding integer ranges. */
function splitIdList(list: string): string[] {
  const ids: string[] = [];
  const re = new RegExp(
    `(${ID_TOKEN}|[A-Z](?!\\w))(?:\\s*(?:-|–|\\bto\\b|\\bthrough\\b)\\s*(${ID_TOKEN}|[A-Z](?!\\w)))?`,
    'gi',
  );
  for (const match of list.matchAll(re)) {
    const from = match[1] ?? '';
    const to = match[2];
    if (to !== undefined && /^\d+$/.test(from) && /^\d+$/.test(to)) ids.push(...expandRange(from, to));
    else {
      ids.push(from);
      if (to !== undefined) ids.push(to);
    }
  }
  return ids;
}

/** Every alias of every phase and sub-step, for O(1) lookups. */
export class RefIndex {
  private readonly keys = new Map<string, UnitRef>();
  private readonly kindWords = new Set<string>();
  private readonly titles: { title: string; ref: UnitRef }[] = [];
  private readonly kindRe: RegExp;

  constructor(readonly phases: readonly PhaseDraft[]) {
    phases.forEach((phase, index) => {
      this.register(phase, { phase: index, sub: null });
      const title = normaliseTitle(phase.title);
      if (title.split(' ').length >= 2) this.titles.push({ title, ref: { phase: index, sub: null } });
    });
    phases.forEach((phase, index) => {
      phase.subSteps.forEach((step, sub) => {
        this.register(step, { phase: index, sub });
      });
    });
    for (const word of UNIT_KEYWORDS) this.kindWords.add(word);
    const words = [...this.kindWords]
      .sort((a, b) => b.length - a.length)
      .map((w) => w.replace(/ /g, '\\s+').replace(/y$/, '(?:y|ie)'));
    // Letter ids (`Stream B`); lower-case letters are dropped in `find` ("phases and" is no "phase s").
    const idOrLetter = `(?:${ID_TOKEN}|[A-Z](?![\\w]))`;
    this.kindRe = new RegExp(
      `\\b(${words.join('|')})(?:e?s)?\\.?\\s*(${idOrLetter}(?:${LIST_SEP}${idOrLetter}(?![\\w-]))*)`,
      'gi',
    );
  }

  private add(key: string, ref: UnitRef): void {
    const k = aliasKey(key);
    if (!this.keys.has(k)) this.keys.set(k, ref);
  }

  private register(unit: Unit, ref: UnitRef): void {
    const kind = unit.kind.toLowerCase();
    // `Track 1` stays `Track 1` in the text even when its phase id became `T1`.
    const id = unit.localId ?? unit.id;
    this.add(unit.id, ref);
    this.add(id, ref);
    if (kind.startsWith('numbered') || kind === '') {
      for (const word of ['step', 'phase', 'task', 'part', 'stage', 'item']) this.add(word + id, ref);
    } else if (/^[a-z ]+$/.test(kind) && !id.toLowerCase().startsWith(kind)) {
      this.add(kind + id, ref);
      if (/^\d/.test(id))
        this.add(
          kind
            .split(' ')
            .map((w) => w[0] ?? '')
            .join('') + id,
          ref,
        );
      if (kind.length > 2) this.kindWords.add(kind);
    }
    if (id.startsWith('#')) this.add('issue' + id, ref);
    // "User Story 1 - Title" is also referred to as "US1" and "User Story 1".
    const titled = /^([A-Za-z]+(?: [A-Za-z]+)?) (\d+)\b/.exec(unit.title);
    if (titled?.[1] && titled[2]) {
      const words = titled[1].toLowerCase();
      this.add(words + titled[2], ref);
      this.add(
        words
          .split(' ')
          .map((w) => w[0] ?? '')
          .join('') + titled[2],
        ref,
      );
      this.kindWords.add(words);
    }
  }

  /** Looks up one alias (`phase2`, `#801`, `DEV-A`). */
  lookup(alias: string): UnitRef | undefined {
    return this.keys.get(aliasKey(alias));
  }

  /** `Phase 2A`, `Phase 1.3` when only `Phase 2`, `Phase 1` exist: a part of that phase, lifted to it. */
  private lookupPart(kind: string, id: string): UnitRef | undefined {
    const base = /^(\d+)(?:[a-z]|\.\d+)$/i.exec(id)?.[1];
    if (base === undefined) return undefined;
    const ref = this.lookup(kind.replace(/ /g, '') + base);
    return ref ? { phase: ref.phase, sub: null } : undefined;
  }

  /** True when `word` is a word the plan uses for its units (so `Phase 9` is a broken reference). */
  isKindWord(word: string): boolean {
    const w = word.toLowerCase().replace(/\s+/g, ' ');
    return this.kindWords.has(w) || this.kindWords.has(w.replace(/ies$/, 'y').replace(/e?s$/, ''));
  }

  /** Finds references in `text`; `unresolved` collects kind-word references that match nothing. */
  find(text: string, options: FindOptions = {}, unresolved?: string[]): FoundRef[] {
    const found: FoundRef[] = [];
    const taken: [number, number][] = [];
    const overlaps = (s: number, e: number): boolean => taken.some(([a, b]) => s < b && e > a);
    for (const match of text.matchAll(this.kindRe)) {
      const kind = (match[1] ?? '').toLowerCase().replace(/\s+/g, ' ').replace(/ie$/, 'y');
      const start = match.index;
      const end = start + match[0].length;
      let any = false;
      for (const id of splitIdList(match[2] ?? '')) {
        if (/^[a-z]$/.test(id)) continue;
        const ref =
          this.lookup(kind.replace(/ /g, '') + id) ?? this.lookup(kind + id) ?? this.lookupPart(kind, id);
        if (ref) {
          found.push({ ref, start, end, raw: match[0] });
          any = true;
        } else if (unresolved && this.isKindWord(kind)) unresolved.push(`${match[1] ?? ''} ${id}`);
      }
      if (any || this.isKindWord(kind)) taken.push([start, end]);
    }
    for (const match of text.matchAll(STANDALONE_RE)) {
      const start = match.index;
      const end = start + match[0].length;
      if (overlaps(start, end)) continue;
      // `T4-6` and `U1-U8` are ranges of one id scheme.
      const range = /^([A-Z]{1,3})(\d+)\s*[-–]\s*(?:\1)?(\d+)$/.exec(match[0]);
      const aliases = range
        ? expandRange(range[2] ?? '', range[3] ?? '').map((n) => (range[1] ?? '') + n)
        : [match[0]];
      for (const alias of aliases) {
        const ref = this.lookup(alias);
        if (ref) found.push({ ref, start, end, raw: match[0] });
      }
      taken.push([start, end]);
    }
    if (options.bareNumbers) {
      // `Sequential after: B` when the plan's units are lettered.
      for (const match of text.matchAll(/(?<![\w.#-])([A-Z])(?![\w-])/g)) {
        if (overlaps(match.index, match.index + 1)) continue;
        const ref = this.lookup(match[1] ?? '');
        if (ref) found.push({ ref, start: match.index, end: match.index + 1, raw: match[0] });
      }
      for (const match of text.matchAll(/(?<![\w.#-])(\d+[a-z]?(?:\.\d+)*)(?:\s*[-–]\s*(\d+))?(?![\w%])/g)) {
        const start = match.index;
        const end = start + match[0].length;
        if (overlaps(start, end)) continue;
        const ids = match[2] ? expandRange(match[1] ?? '', match[2]) : [match[1] ?? ''];
        for (const id of ids) {
          const ref =
            (options.preferKind ? this.lookup(options.preferKind + id) : undefined) ?? this.lookup(id);
          if (ref) found.push({ ref, start, end, raw: match[0] });
        }
      }
    }
    return found.sort((a, b) => a.start - b.start);
  }

  /** Phases whose full title appears in `text` (for `Depends on: Database Migration`). */
  findTitles(text: string): UnitRef[] {
    const normalised = ` ${normaliseTitle(text)} `;
    return this.titles.filter((t) => normalised.includes(` ${t.title} `)).map((t) => t.ref);
  }
}
