/**
 * Reads every dependency statement of a plan and turns it into phase-to-phase edges:
 * labelled fields (`Depends on:`, `Blocked by:`, `Prerequisites:`…), heading notes
 * (`(after Phase 1)`), sentences (`X must complete before Y`), arrow chains, dependency tables,
 * wave/tier groups (headings, code-block diagrams, JSON wave lists) and implementation-order lists.
 * Sub-step edges are lifted to their phases; edges inside one phase are dropped.
 */
import type { Diagnostic, PlanFile } from './types.js';
import type { MarkdownDoc } from './markdown.js';
import { readUnitLabel } from './headings.js';
import type { PhaseDraft } from './phases.js';
import { aliasKey, type RefIndex, type UnitRef } from './references.js';
import { normalisePath } from './paths.js';

/** The statement behind one edge: its line in the plan and the rule that read it. */
export interface EdgeSource {
  readonly line: number;
  readonly rule: string;
}

/** Edges and flags per phase (by index), plus what the reader could not resolve. */
export interface DependencyResult {
  /** Where each edge was stated, keyed `subjectIndex>depIndex`. */
  readonly sources: ReadonlyMap<string, EdgeSource>;
  readonly dependsOn: readonly (readonly number[])[];
  readonly explicit: readonly boolean[];
  /** True when the plan states dependencies anywhere (even "none"). */
  readonly stated: boolean;
  readonly reasons: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

const DEP_WORDS = String.raw`depends?[- ]on|dependenc(?:y|ies)|requires|required|prerequisites?|pre-?reqs?|blocked[- ]by|needs|waits? (?:for|on)|parents?|sequential(?:ly)? after|(?:starts?|begins?|runs?) (?:after|when)|gated? (?:by|on)|after`;
const LABEL_RE = new RegExp(
  String.raw`^\s*(?:[-*+>]\s+|\d+[.)]\s+)?(?:\*\*|__)?(${DEP_WORDS})(?:\*\*|__)?\s*[:：](?:\*\*|__)?\s*(.*)$`,
  'i',
);
const INLINE_RE =
  /\b(?:depends?\s+(?:only\s+)?on|depend\s+on|blocked\s+by|requires|needs|waits?\s+for|(?:can\s+)?(?:start|run|begin)s?\s+(?:any\s*time\s+)?after|after|parents?:)\s+/i;
const BEFORE_RE =
  /\bmust\s+(?:complete|finish|be\s+(?:done|complete|completed|merged|finished)|land|merge)\s+before\b/i;
const NONE_RE =
  /^\s*(?:\*\*|__)?(?:none|nothing|n\/a|na|no(?:ne)?\s+dependenc|no parents|no blockers|independent|-|—|–)\b/i;
/** A dependency line that takes itself back: "Tracks 1-4 don't need to be complete". */
const NEGATED_RE =
  /\b(?:do(?:es)?n[’']?t|do(?:es)? not|need not|needn[’']?t|no need|not)\s+(?:need(?:ed)?|required|have to|wait|block)\b/i;
/** In a phase's body, "After Phases 1-3 are complete, …" / "Once Phase B is done" states its condition. */
const BODY_CONDITION_RE =
  /^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?:after|once|when)\s+(.{1,80}?)\s+(?:is|are|has|have)\s+(?:been\s+)?(?:complete|completed|done|finished|merged|landed|in place|shipped)\b/i;
/** "every other task depends on this": the later units wait for the one that says it. */
const OTHERS_DEPEND_RE =
  /\b(?:every|all)\s+other\s+(?:\w+\s+){0,1}\w+(?:\s+and\s+[\w\s]{1,30}?)?\s+depends?\s+on\s+(?:this|it)\b/i;
/** A heading note such as "(must complete before parallel tracks)": what follows waits for this phase. */
const BEFORE_NOTE_RE =
  /\b(?:must\s+)?(?:complete|finish|land|be\s+(?:done|complete|merged))\s+before\s+(.+)$/i;
/** Bold labels over a list of phases that state the list's condition ("**Should run after Task 1:**"). */
const GROUP_LAST_RE = /\b(?:run|do|start|go|execute|schedule)\w*\s+(?:\w+\s+)?(?:last|at the end)\b/i;
const GROUP_NONE_RE = /\b(?:in parallel|independent|no dependenc\w*|any order|any ?time)\b/i;
/** Lists saying how finished branches are merged: not dependencies (README: merge order). */
const MERGE_ORDER_RE =
  /\b(?:merge|merging|integration|pr|pull request|review|landing)\s+(?:order|sequence|waves?)\b|\border\s+(?:of|to|for)\s+merg/i;
/** Words that sequence the entries of a numbered list ("1. … first", "2. Then …", "3. Finally …"). */
const SEQUENCE_WORD_RE = /^\W*(?:then|next|finally|afterwards|after that|lastly|last)\b/i;
const ALL_PREVIOUS_RE =
  /\ball\s+(?:of\s+the\s+)?(?:previous|prior|earlier|preceding|above|other)\b|\bafter\s+all\b|^\s*(?:\*\*)?all(?:\*\*)?\s*(?:$|[.(,])/i;
/** "parallel with X" and "can start before X" name phases that are not prerequisites. */
const PARALLEL_CUT_RE =
  /\b(?:(?:parallel|concurrent(?:ly)?|simultaneous(?:ly)?)\s+(?:with|to|alongside)|can\s+start\s+(?:with|before)|before)\b[^;.)]*/gi;
const ARROW_SPLIT_RE = /\s*(?:-->|->|→|⟶|=>|⇒|─+►|─+>|─+→|⟹)\s*/;
const DOWN_ARROW_LINE_RE = /^[\s│|┌┐└┘├┤┬┴┼─━═╔╗╚╝║▼↓v^]*[▼↓][\s│|┌┐└┘├┤┬┴┼─━═▼↓]*$/;
/** A lone vertical connector between two entries of a chain diagram. */
const VERTICAL_LINK_RE = /^\s*[│|┃]\s*$/;
const ORDER_TITLE_RE = /\b(?:order|sequence|execution plan|critical path|roadmap|run order|build order)\b/i;
const OWN_CONDITION_RE = /\b(?:after|depends?|before|blocked|requires|needs|independent|any ?time)\b|→|->/i;
const GROUP_LINE_RE =
  /^\s*(?:[-*+]\s+)?(?:\*\*)?(wave|tier|phase|stage|batch|round|group|level|step)\s+(\d+)\b(?:\*\*)?\s*(\([^)]*\))?\s*[:—–-]?\s*(.*)$/i;

interface Group {
  readonly key: string;
  readonly series: string;
  readonly members: Set<number>;
  gate: string;
  readonly order: number;
  /** Line of the group's heading or first line. */
  readonly line: number;
}

/** Phases listed under a label that states their condition: after `deps`, or after every other phase. */
interface ListGroup {
  readonly deps: number[] | 'rest';
  readonly members: Set<number>;
  readonly line: number;
}

/** Collects edges while statements are read. */
class EdgeSink {
  readonly edges: Set<number>[];
  readonly explicit: boolean[];
  /** Line where a phase's own field said it depends on nothing, per phase (0: it did not). */
  readonly saidNone: number[];
  stated = false;
  readonly reasons = new Set<string>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(readonly phases: readonly PhaseDraft[]) {
    this.edges = phases.map(() => new Set<number>());
    this.explicit = phases.map(() => false);
    this.saidNone = phases.map(() => 0);
  }

  /** Where each edge was stated (`subject>dep` → first line and rule that stated it). */
  readonly sources = new Map<string, EdgeSource>();

  add(subject: number, dep: number, reason: string, line: number): void {
    if (subject === dep || subject < 0 || dep < 0) return;
    const set = this.edges[subject];
    if (!set) return;
    set.add(dep);
    this.stated = true;
    this.reasons.add(reason);
    const key = `${subject}>${dep}`;
    if (!this.sources.has(key)) this.sources.set(key, { line, rule: reason });
  }
}

/** Everything `readDependencies` needs about the plan. */
export interface DependencyInput {
  readonly doc: MarkdownDoc;
  readonly phases: readonly PhaseDraft[];
  readonly index: RefIndex;
  readonly files: readonly (readonly PlanFile[])[];
  readonly source: string;
}

class Reader {
  private readonly sink: EdgeSink;
  /** Phase index owning each line (-1 outside phases). */
  private readonly phaseOfLine: Int32Array;
  /** Sub-step index owning each line (-1 for the phase itself). */
  private readonly subOfLine: Int32Array;
  private readonly groups = new Map<string, Group>();
  private readonly creators = new Map<string, number>();
  /** Phase indices by unit word (`track` → the tracks), for "all tracks". */
  private readonly phasesOfKind = new Map<string, number[]>();

  constructor(private readonly input: DependencyInput) {
    this.sink = new EdgeSink(input.phases);
    const size = input.doc.lines.length + 2;
    this.phaseOfLine = new Int32Array(size).fill(-1);
    this.subOfLine = new Int32Array(size).fill(-1);
    input.phases.forEach((phase, p) => {
      for (let l = phase.line; l <= phase.endLine && l < size; l++) this.phaseOfLine[l] = p;
      phase.subSteps.forEach((step, s) => {
        for (let l = step.line; l <= step.endLine && l < size; l++) this.subOfLine[l] = s;
      });
    });
    input.phases.forEach((phase, p) => {
      const list = this.phasesOfKind.get(phase.kind) ?? [];
      list.push(p);
      this.phasesOfKind.set(phase.kind, list);
    });
    input.files.forEach((files, p) => {
      for (const file of files) {
        // The first phase that lists a file is its creator.
        if (!this.creators.has(file.path)) this.creators.set(file.path, p);
      }
    });
  }

  private lift(ref: UnitRef): number {
    return ref.phase;
  }

  /** Phase indices a dependency text names: refs, groups, files, "all previous". */
  private resolve(text: string, subject: number | null, line: number, field: boolean): number[] | null {
    const cleaned = text.replace(PARALLEL_CUT_RE, ' ');
    const out = new Set<number>();
    // "all tracks", "the parallel tracks": every phase of a unit word the plan uses for some of its phases.
    let ofKinds = false;
    for (const match of cleaned.matchAll(
      /\b(?:all|every|the|parallel|other|remaining)\s+(?:(?:the|of the|parallel|other|remaining)\s+)*([a-z]+?)e?s\b/gi,
    )) {
      const kind = (match[1] ?? '').toLowerCase();
      const ofKind = this.phasesOfKind.get(kind) ?? [];
      if (ofKind.length >= 2 && ofKind.length < this.input.phases.length) {
        ofKinds = true;
        for (const p of ofKind) if (p !== subject) out.add(p);
      }
    }
    if (!ofKinds && ALL_PREVIOUS_RE.test(cleaned) && subject !== null) {
      for (let p = 0; p < subject; p++) out.add(p);
    }
    const unresolved: string[] = [];
    for (const found of this.input.index.find(cleaned, { bareNumbers: field }, unresolved))
      out.add(this.lift(found.ref));
    const missing: string[] = [];
    for (const name of unresolved) {
      const group = this.groups.get(aliasKey(name));
      if (group) for (const m of group.members) out.add(m);
      else missing.push(name);
    }
    for (const match of cleaned.matchAll(/\ball\s+([a-z]+(?:\s+[a-z]+)?)/gi)) {
      const word = (match[1] ?? '').toLowerCase().replace(/ies$/, 'y').replace(/s$/, '');
      this.input.phases.forEach((phase, p) => {
        if (phase.title.toLowerCase().startsWith(word + ' ') && word.length > 3) out.add(p);
      });
    }
    const fileTokens = field ? (cleaned.match(/`[^`]+`|[\w./-]+\.[a-z]{1,8}\b/gi) ?? []) : [];
    for (const token of fileTokens) {
      const path = normalisePath(token, { quoted: token.startsWith('`') });
      if (path === null) continue;
      const creator = this.creators.get(path);
      if (creator !== undefined) out.add(creator);
    }
    if (field && out.size === 0) {
      for (const ref of this.input.index.findTitles(cleaned)) out.add(ref.phase);
    }
    if (field && missing.length > 0) {
      this.sink.diagnostics.push({
        severity: 'error',
        code: 'unknown-dependency',
        message: `${this.input.source}:${line}: dependency on unknown ${missing.join(', ')}; use the id of a phase or step defined in the plan, or remove the reference`,
        line,
        file: this.input.source,
      });
    }
    return out.size > 0 ? [...out] : null;
  }

  private addAll(subjects: Iterable<number>, deps: Iterable<number>, reason: string, line: number): void {
    const depList = [...deps];
    for (const s of subjects) for (const d of depList) this.sink.add(s, d, reason, line);
  }

  /** A labelled field inside a phase: the owner (phase or sub-step) depends on the value. */
  private readField(value: string, phase: number, sub: number, line: number): void {
    const isPhaseLevel = sub < 0;
    if (isPhaseLevel || this.input.phases[phase]?.subSteps.length) this.sink.explicit[phase] = true;
    this.sink.stated = true;
    if (NONE_RE.test(value) && isPhaseLevel) this.sink.saidNone[phase] = line;
    if (NONE_RE.test(value) || NEGATED_RE.test(value)) return;
    const deps = this.resolve(value, phase, line, true);
    if (!deps) {
      this.sink.diagnostics.push({
        severity: 'info',
        code: 'unresolved-dependency',
        message: `${this.input.source}:${line}: could not resolve "${value.trim().slice(0, 80)}" to a phase; write e.g. "Depends on: Phase 2"`,
        line,
        file: this.input.source,
      });
      return;
    }
    if (isPhaseLevel) {
      const direct = this.input.index.find(value.replace(PARALLEL_CUT_RE, ' '), { bareNumbers: true });
      if (direct.some((f) => f.ref.phase === phase && f.ref.sub === null)) {
        this.sink.diagnostics.push({
          severity: 'error',
          code: 'self-dependency',
          message: `${this.input.source}:${line}: phase "${this.input.phases[phase]?.title ?? ''}" depends on itself; remove it from its own dependencies`,
          line,
          file: this.input.source,
        });
      }
    }
    this.addAll([phase], deps, 'a phase states what it depends on', line);
  }

  /** Sentences such as `P4 depends on P3b`, `#773 blocked by #801`, `US1 must complete before US4`. */
  private readSentence(
    text: string,
    line: number,
    fallbackSubjects: number[] | null,
    isRow: boolean,
  ): boolean {
    let found = false;
    for (const clause of text.split(/(?<=[.;!?])\s+(?=[A-Z*])|\n/)) {
      const before = BEFORE_RE.exec(clause);
      if (before) {
        const deps = this.resolve(clause.slice(0, before.index), null, line, false);
        const subjects = this.resolve(clause.slice(before.index + before[0].length), null, line, false);
        if (deps && subjects) {
          this.addAll(subjects, deps, 'the plan says which phases must complete first', line);
          found = true;
        }
        continue;
      }
      const inline = INLINE_RE.exec(clause);
      if (!inline) continue;
      let subjects: number[] | null;
      if (isRow)
        subjects = this.resolve(clause.split('|').filter((c) => c.trim())[0] ?? '', null, line, false);
      else subjects = this.resolve(clause.slice(0, inline.index), null, line, false);
      subjects ??= fallbackSubjects;
      if (!subjects) continue;
      const tail = clause.slice(inline.index + inline[0].length);
      const deps = this.resolve(
        tail.split(/\s+(?:but|while|so|because)\s+/)[0] ?? tail,
        Math.min(...subjects),
        line,
        false,
      );
      if (deps) {
        this.addAll(subjects, deps, 'the plan states dependencies between phases', line);
        found = true;
      }
    }
    return found;
  }

  /** `Phase 1 → Phase 2 → Phase 3`: each part depends on the part before it. */
  private readArrows(text: string, line: number): void {
    const parts = text.split(ARROW_SPLIT_RE);
    if (parts.length < 2) return;
    let previous: number[] | null = null;
    for (const part of parts) {
      const refs = this.resolve(part.replace(/\bafter\b.*$/i, ''), null, line, false);
      if (refs && previous) this.addAll(refs, previous, 'an arrow diagram orders the phases', line);
      if (refs) previous = refs;
    }
  }

  private refsIn(lines: readonly string[]): Set<number> {
    const members = new Set<number>();
    let kindColumn: { index: number; kind: string } | null = null;
    lines.forEach((text, offset) => {
      const stripped = text.replace(new RegExp(`\\b(?:${DEP_WORDS})\\b.*$`, 'i'), '');
      if (/^\s*\|/.test(text)) {
        const cells = text
          .replace(/^\s*\|/, '')
          .replace(/\|\s*$/, '')
          .split('|')
          .map((c) => c.trim());
        if (/^\s*\|?\s*:?-{2,}/.test(lines[offset + 1] ?? '')) {
          const index = cells.findIndex((c) => this.input.index.isKindWord(c.replace(/[*_]/g, '')));
          kindColumn =
            index >= 0 ? { index, kind: (cells[index] ?? '').replace(/[*_]/g, '').toLowerCase() } : null;
          return;
        }
        if (kindColumn) {
          const cell = cells[kindColumn.index] ?? '';
          const ref = this.input.index.lookup(kindColumn.kind + cell.replace(/[*_`]/g, ''));
          if (ref) members.add(ref.phase);
        }
      }
      for (const found of this.input.index.find(stripped)) members.add(found.ref.phase);
    });
    return members;
  }

  private addGroup(key: string, series: string, members: Set<number>, gate: string, line: number): void {
    const existing = this.groups.get(key);
    if (existing) {
      for (const m of members) existing.members.add(m);
      if (!existing.gate) existing.gate = gate;
      return;
    }
    this.groups.set(key, { key, series, members, gate, order: this.groups.size, line });
  }

  /** Non-phase headings such as `### Wave 2 (after Wave 1)` group the phases named in their section. */
  private collectHeadingGroups(): void {
    const { doc, index } = this.input;
    const phaseLines = new Set(this.input.phases.map((p) => p.line));
    doc.headings.forEach((heading, h) => {
      if (this.phaseOfLine[heading.line] !== -1 && phaseLines.has(heading.line)) return;
      const label = readUnitLabel(heading.text);
      if (label?.style !== 'keyword' || index.lookup(label.kind + label.id)) return;
      let end = doc.lines.length;
      for (let k = h + 1; k < doc.headings.length; k++) {
        const later = doc.headings[k];
        if (later && later.depth <= heading.depth) {
          end = later.line - 1;
          break;
        }
      }
      const members = this.refsIn(doc.lines.slice(heading.line, end));
      this.addGroup(
        aliasKey(label.kind + label.id),
        `h${heading.depth}${label.kind}`,
        members,
        label.title,
        heading.line,
      );
    });
  }

  /** Code-block lines such as `Phase 5 (after T7):  Task 9 …` followed by indented members. */
  private collectLineGroups(lines: readonly string[], firstLine: number): void {
    let current: { key: string; gate: string; members: Set<number>; line: number } | null = null;
    const flush = (): void => {
      if (current) this.addGroup(current.key, 'lines', current.members, current.gate, current.line);
      current = null;
    };
    lines.forEach((text, offset) => {
      const match = GROUP_LINE_RE.exec(text);
      if (match && !this.input.index.lookup((match[1] ?? '') + (match[2] ?? ''))) {
        flush();
        current = {
          key: aliasKey((match[1] ?? '') + (match[2] ?? '')),
          gate: match[3] ?? '',
          members: new Set(),
          line: firstLine + offset,
        };
        for (const found of this.input.index.find(match[4] ?? '')) current.members.add(found.ref.phase);
        return;
      }
      if (text.trim() === '') {
        flush();
        return;
      }
      if (current) for (const found of this.input.index.find(text)) current.members.add(found.ref.phase);
    });
    flush();
  }

  /** JSON wave lists: `{"waves": [{"wave": 1, "tasks": [1], "description": "…"}]}`. */
  private collectJsonGroups(value: string, line: number): void {
    let data: unknown;
    try {
      data = JSON.parse(value);
    } catch {
      return;
    }
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) visit(item);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const record = node as Record<string, unknown>;
      const groupKey = ['wave', 'tier', 'stage', 'batch', 'level', 'round'].find(
        (k) => typeof record[k] === 'number',
      );
      const memberKey = ['tasks', 'steps', 'phases', 'items', 'members'].find((k) =>
        Array.isArray(record[k]),
      );
      if (groupKey && memberKey) {
        const members = new Set<number>();
        const kind = memberKey.replace(/s$/, '');
        for (const raw of record[memberKey] as unknown[]) {
          if (typeof raw !== 'number' && typeof raw !== 'string') continue;
          const ref = this.input.index.lookup(kind + String(raw)) ?? this.input.index.lookup(String(raw));
          if (ref) members.add(ref.phase);
        }
        const gate = ['dependsOn', 'depends_on', 'after', 'description']
          .map((k) => record[k])
          .filter((v): v is string => typeof v === 'string')
          .join(' ');
        this.addGroup(aliasKey(groupKey + String(record[groupKey])), 'json', members, gate || ' ', line);
      }
      for (const child of Object.values(record)) visit(child);
    };
    visit(data);
  }

  /** Applies each group's gate, or chains it to the previous group of its series. */
  private applyGroups(): void {
    const bySeries = new Map<string, Group[]>();
    for (const group of this.groups.values()) {
      const list = bySeries.get(group.series) ?? [];
      list.push(group);
      bySeries.set(group.series, list);
    }
    for (const list of bySeries.values()) {
      list.forEach((group, i) => {
        if (group.members.size === 0) return;
        const gateText = group.gate;
        const first = Math.min(...group.members);
        let deps: number[] | null = null;
        if (
          /\ball\b/i.test(gateText) &&
          /\b(?:after|depends?)\b/i.test(gateText) &&
          !/\ball\s+\w+\s+(?:must|streams?)/i.test(gateText)
        ) {
          deps = [];
          for (let p = 0; p < first; p++) if (!group.members.has(p)) deps.push(p);
        }
        const gateHasDep = new RegExp(
          `\\b(?:${DEP_WORDS}|built against|composing|uses|based on)\\b`,
          'i',
        ).test(gateText);
        if (!deps && gateHasDep)
          deps = this.resolve(
            gateText.replace(
              /^.*?\b(?=wave|tier|phase|stage|group|after|depend|parents|needs|requires|built|composing)/i,
              '',
            ),
            null,
            group.line,
            false,
          );
        if (!deps && gateText.trim() !== '' && /\bwaves?\s+\d/i.test(gateText))
          deps = this.resolve(gateText, null, group.line, false);
        const previous = list[i - 1];
        if (
          !deps &&
          !gateHasDep &&
          previous &&
          !/\b(?:independent|no parents|parallel|any ?time|no dependenc)/i.test(gateText)
        ) {
          deps = [...previous.members];
        }
        if (deps)
          this.addAll(
            group.members,
            deps.filter((d) => !group.members.has(d)),
            'waves or tiers order the phases',
            group.line,
          );
      });
    }
  }

  /** Box diagrams in code blocks: boxes separated by `▼` rows form tiers, each after the one above. */
  private readTiers(lines: readonly string[], firstLine: number): void {
    const segments: Set<number>[] = [];
    const segmentLines: number[] = [];
    let current = new Set<number>();
    let currentLine = firstLine;
    // In trees (`├──`, `└──`: directory listings, outlines) a lone `│` is nesting, not a step down a chain.
    const chain = !lines.some((l) => /[├└]/.test(l));
    lines.forEach((text, offset) => {
      if (DOWN_ARROW_LINE_RE.test(text) || (chain && VERTICAL_LINK_RE.test(text))) {
        if (current.size > 0) {
          segments.push(current);
          segmentLines.push(currentLine);
        }
        current = new Set<number>();
        currentLine = firstLine + offset + 1;
        return;
      }
      const stripped = text.replace(new RegExp(`\\b(?:${DEP_WORDS})\\b.*$`, 'i'), '');
      for (const found of this.input.index.find(stripped)) current.add(found.ref.phase);
    });
    if (current.size > 0) {
      segments.push(current);
      segmentLines.push(currentLine);
    }
    for (let i = 1; i < segments.length; i++) {
      const seg = segments[i];
      const prev = segments[i - 1];
      if (seg && prev)
        this.addAll(
          seg,
          [...prev].filter((p) => !seg.has(p)),
          'a diagram puts the phases in tiers',
          segmentLines[i] ?? firstLine,
        );
    }
  }

  /** Numbered lists under an "order" title: each entry after the previous one, unless it states its own condition. */
  /**
   * Numbered lists under an "order" title: each entry after the previous one, unless it states its
   * own condition. A merge order (`chain` false) gives only the entries' own conditions.
   */
  private readOrderList(items: { text: string; line: number }[], chain = true): void {
    let previous: number[] | null = null;
    for (const item of items) {
      this.readArrows(item.text, item.line);
      const refs = this.resolve(
        item.text.replace(/\([^)]*(?:\)|$)/g, ' ').replace(/\bafter\b.*$/i, ''),
        null,
        item.line,
        false,
      );
      if (!refs) continue;
      const own = OWN_CONDITION_RE.test(item.text) && this.readSentence(item.text, item.line, refs, false);
      if (!chain) continue;
      let exit = refs;
      const body = item.text.replace(SEQUENCE_WORD_RE, '');
      if (/\bsequential(?:ly)?\b|\bthen\b/i.test(body) && refs.length > 1) {
        const sorted = [...refs].sort((a, b) => a - b);
        for (let i = 1; i < sorted.length; i++)
          this.sink.add(sorted[i] ?? -1, sorted[i - 1] ?? -1, 'an order list', item.line);
        exit = [sorted[sorted.length - 1] ?? 0];
        if (!own && previous) this.addAll([sorted[0] ?? 0], previous, 'an order list', item.line);
      } else if (!own && previous) {
        this.addAll(refs, previous, 'an implementation-order list orders the phases', item.line);
      }
      previous = exit;
    }
  }

  /** The condition a label or heading over a list of phases states, or null when it states none. */
  private listCondition(text: string, line: number): ListGroup | null {
    const label = text.replace(/^#+\s*/, '').replace(/[*_]/g, '');
    if (GROUP_LAST_RE.test(label)) return { deps: 'rest', members: new Set(), line };
    const after = /\b(?:after|once|when)\b(.*)$/i.exec(label);
    if (after && /\b(?:should|can|must|may|to)?\s*(?:run|start|begin|go|be done|execute)\w*\b/i.test(label)) {
      const deps = this.resolve(after[1] ?? '', null, line, false);
      if (deps) return { deps, members: new Set(), line };
    }
    if (GROUP_NONE_RE.test(label) && /\b(?:run|start|execute|work|done)\b/i.test(label)) {
      this.sink.stated = true;
      return null;
    }
    return null;
  }

  /** Gives each member of a conditioned list its condition. */
  private applyListGroup(group: ListGroup): void {
    const deps =
      group.deps === 'rest'
        ? this.input.phases.map((_, i) => i).filter((i) => !group.members.has(i))
        : group.deps;
    const rule =
      group.deps === 'rest'
        ? 'a list the plan says runs last waits for every other phase'
        : 'a list states the condition its phases start after';
    this.addAll(group.members, deps, rule, group.line);
  }

  /** Sentences in a phase's own text that state its condition or what waits for it. */
  private readBodyCondition(text: string, p: number, line: number): void {
    const condition = BODY_CONDITION_RE.exec(text);
    if (condition) {
      const deps = this.resolve(condition[1] ?? '', p, line, false)?.filter((d) => d !== p);
      if (deps && deps.length > 0) {
        this.sink.explicit[p] = true;
        this.addAll([p], deps, "a phase's text says what it starts after", line);
      }
    }
    if (OTHERS_DEPEND_RE.test(text)) {
      const later = this.input.phases.map((_, i) => i).filter((i) => i > p);
      this.addAll(later, [p], 'a phase says every other one depends on it', line);
    }
  }

  /**
   * A phase whose own line says "none" but that an order list, a list label or waves put after others:
   * both are kept (the union), and the warning shows the setting that would keep only the phase's line.
   */
  private reportContradictions(): void {
    const { phases, source } = this.input;
    phases.forEach((phase, p) => {
      const none = this.sink.saidNone[p] ?? 0;
      if (none === 0) return;
      const deps = [...(this.sink.edges[p] ?? [])];
      if (deps.length === 0) return;
      const first = this.sink.sources.get(`${p}>${deps[0] ?? -1}`);
      const names = deps.map((d) => phases[d]?.id ?? '').join(', ');
      this.sink.diagnostics.push({
        severity: 'warning',
        code: 'dependency-contradiction',
        message:
          `${source}:${first?.line ?? none}: phase ${phase.id} says it depends on nothing (line ${none}), but line ${first?.line ?? none} (${first?.rule ?? 'another statement'}) ` +
          `puts it after ${names}; both are kept, so it waits for ${names}. To keep only its own line, add to the front matter (or a \`\`\`maestro block):\n` +
          `    phases:\n      - id: "${phase.id}"\n        dependsOn: []`,
        line: first?.line ?? none,
        file: source,
      });
    });
  }

  run(): DependencyResult {
    const { doc, phases } = this.input;
    this.collectHeadingGroups();
    for (const block of doc.codeBlocks) {
      if (this.phaseOfLine[block.line] !== -1) continue;
      const lines = block.value.split('\n');
      if (block.lang === 'json') this.collectJsonGroups(block.value, block.line);
      else if (['', 'text', 'txt', 'plain', 'plaintext', 'ascii', 'mermaid'].includes(block.lang)) {
        this.collectLineGroups(lines, block.line + 1);
        this.readTiers(lines, block.line + 1);
      }
    }
    this.applyGroups();

    // Phase headings: "(Depends on Wave 1)", "(after Phase 1)", "(Independent)".
    phases.forEach((phase, p) => {
      const heading = doc.lines[phase.line - 1] ?? '';
      const note = /\(([^)]*)\)\s*$/.exec(heading)?.[1] ?? '';
      const before = BEFORE_NOTE_RE.exec(note);
      if (/^\s*(?:independent|no dependencies|none)\s*$/i.test(note)) {
        this.sink.explicit[p] = true;
        this.sink.stated = true;
      } else if (before) {
        const later = this.resolve(before[1] ?? '', null, phase.line, false);
        if (later) this.addAll(later, [p], 'a phase heading says what waits for it', phase.line);
      } else if (new RegExp(`\\b(?:${DEP_WORDS})\\b`, 'i').test(note)) {
        const deps = this.resolve(
          note.replace(/^.*?\b(?=depend|after|requires|needs|blocked|prereq)/i, ''),
          p,
          phase.line,
          false,
        );
        this.sink.explicit[p] = true;
        this.sink.stated = true;
        if (deps) this.addAll([p], deps, 'phase headings state their dependencies', phase.line);
      }
    });

    let orderItems: { text: string; line: number }[] | null = null;
    let orderChains = true;
    let orderIndent = -1;
    // A run of numbered entries outside phases, read as an order when its entries say "then"/"finally".
    let sequenced: { text: string; line: number }[] = [];
    const flushSequenced = (): void => {
      if (sequenced.length >= 2 && sequenced.slice(1).some((e) => SEQUENCE_WORD_RE.test(e.text)))
        this.readOrderList(sequenced);
      sequenced = [];
    };
    // A bold label over a list of phases that states the list's condition.
    let listGroup: ListGroup | null = null;
    const flushListGroup = (): void => {
      if (listGroup) this.applyListGroup(listGroup);
      listGroup = null;
    };
    let tableHeader: { depCol: number; blocksCol: number; kind: string } | null = null;
    for (let line = 1; line <= doc.lines.length; line++) {
      const text = doc.lines[line - 1] ?? '';
      const p = this.phaseOfLine[line] ?? -1;
      if (doc.inCode[line] === true) {
        // Lines of diagrams and order blocks outside phases are read as text too.
        if (p === -1 && !/^\s*(?:```|~~~)/.test(text)) {
          const block = doc.codeBlocks.find((b) => line > b.line && line < b.endLine);
          if (block && ['', 'text', 'txt', 'plain', 'plaintext', 'ascii', 'mermaid'].includes(block.lang)) {
            this.readArrows(text, line);
            if (!GROUP_LINE_RE.test(text)) this.readSentence(text, line, null, false);
            if (orderItems && /^\s*\d+[.)]\s+/.test(text))
              orderItems.push({ text: text.replace(/^\s*\d+[.)]\s+/, ''), line });
          }
        }
        continue;
      }
      const isRow = /^\s*\|/.test(text);
      if (
        /^#{1,6}\s/.test(text) ||
        /^\s*(?:\*\*|__)[^*_]+(?:\*\*|__)\s*:?\s*$|^\s*(?:\*\*|__)[^*_]+:(?:\*\*|__)\s*$/.test(text)
      ) {
        if (orderItems) this.readOrderList(orderItems, orderChains);
        flushSequenced();
        flushListGroup();
        orderItems = p === -1 && ORDER_TITLE_RE.test(text) ? [] : null;
        orderChains = !MERGE_ORDER_RE.test(text);
        orderIndent = -1;
        if (p === -1) listGroup = this.listCondition(text, line);
        if (p === -1 && /^#{1,6}\s/.test(text))
          this.readSentence(text.replace(/^#+\s*/, ''), line, null, false);
        continue;
      }
      if (isRow) {
        const cells = text
          .trim()
          .replace(/^\|/, '')
          .replace(/\|$/, '')
          .split('|')
          .map((c) => c.trim());
        if (/^\s*\|?\s*:?-{2,}/.test(doc.lines[line] ?? '')) {
          tableHeader = {
            depCol: cells.findIndex((c) => /depend|prereq|blocked by|requires|after|parents|waits/i.test(c)),
            blocksCol: cells.findIndex((c) => /^\W*blocks\W*$/i.test(c)),
            kind: (cells[0] ?? '').replace(/[*_]/g, '').toLowerCase(),
          };
          continue;
        }
        if (/^\s*\|?\s*:?-{2,}/.test(text)) continue;
        const label = (cells[0] ?? '').replace(/[*_`]/g, '');
        if (p !== -1 && LABEL_RE.test(`${label}:`)) {
          this.readField(cells.slice(1).join(' | '), p, this.subOfLine[line] ?? -1, line);
          continue;
        }
        if (p === -1 && tableHeader && (tableHeader.depCol > 0 || tableHeader.blocksCol > 0)) {
          const first = cells[0] ?? '';
          const subjectKey = this.input.index.isKindWord(tableHeader.kind) ? tableHeader.kind : '';
          const subjects =
            this.resolve(first, null, line, false) ??
            (() => {
              const ref = this.input.index.lookup(
                subjectKey + (first.replace(/[*_`]/g, '').split(/[.\s]/)[0] ?? ''),
              );
              return ref ? [ref.phase] : null;
            })();
          if (subjects) {
            const subject = Math.min(...subjects);
            const depCell = cells[tableHeader.depCol] ?? '';
            if (tableHeader.depCol > 0 && !NONE_RE.test(depCell)) {
              const deps = this.resolve(depCell, subject, line, true);
              if (deps) this.addAll(subjects, deps, 'a dependency table', line);
            } else if (tableHeader.depCol > 0) this.sink.stated = true;
            if (tableHeader.blocksCol > 0) {
              const blocked = this.resolve(cells[tableHeader.blocksCol] ?? '', null, line, false);
              if (blocked) this.addAll(blocked, subjects, 'a dependency table', line);
            }
            continue;
          }
        }
        if (p === -1) this.readSentence(text, line, null, true);
        continue;
      }
      tableHeader = null;
      if (p !== -1) {
        listGroup = null;
        const label = LABEL_RE.exec(text);
        if (label && !/^after$/i.test(label[1] ?? '')) {
          this.readField(label[2] ?? '', p, this.subOfLine[line] ?? -1, line);
          continue;
        }
        this.readBodyCondition(text, p, line);
        continue;
      }
      const numbered = /^\s*(?:>\s*)*\d+[.)]\s+(.*)$/.exec(text);
      if (numbered && !orderItems) sequenced.push({ text: numbered[1] ?? '', line });
      else if (!numbered && /^(?:>\s*)*\S/.test(text) && !/^\s*(?:>\s*)*$/.test(text)) flushSequenced();
      const item = /^(\s*)(?:\d+[.)]|[-*+])\s+(.*)$/.exec(text);
      if (orderItems && item && /^\s*\d+[.)]/.test(text)) {
        const indent = item[1]?.length ?? 0;
        if (orderIndent < 0) orderIndent = indent;
        if (indent === orderIndent) {
          orderItems.push({ text: item[2] ?? '', line });
          continue;
        }
      }
      if (listGroup && item && (item[1]?.length ?? 0) === 0) {
        const members = this.resolve(item[2]?.replace(/\([^)]*\)/g, ' ') ?? '', null, line, false);
        if (members) {
          for (const m of members) listGroup.members.add(m);
          continue;
        }
      }
      this.readArrows(text, line);
      this.readSentence(text, line, null, false);
    }
    if (orderItems) this.readOrderList(orderItems, orderChains);
    flushSequenced();
    flushListGroup();

    this.reportContradictions();
    return {
      dependsOn: this.sink.edges.map((set) => [...set].sort((a, b) => a - b)),
      sources: this.sink.sources,
      explicit: this.sink.explicit,
      stated: this.sink.stated,
      reasons: [...this.sink.reasons],
      diagnostics: this.sink.diagnostics,
    };
  }
}

/** Reads every dependency statement of the plan into per-phase edges. */
export function readDependencies(input: DependencyInput): DependencyResult {
  return new Reader(input).run();
}
