/**
 * Reads the files a phase creates, modifies or deletes from its body: `Files:` lists, "Files to
 * create/modify" sections, `Create:`/`Modify:` lines, path columns of tables, and paths in task
 * bullets. Paths only cited for context, URLs and fenced code are left out.
 */
import type { FileAction, PlanFile } from './types.js';
import type { MarkdownDoc } from './markdown.js';
import { isGlob, normalisePath } from './paths.js';

const MARKUP = String.raw`(?:\*\*|__|\*|_)?`;
const FILE_LABEL_WORDS = String.raw`(?:(?:new |key |changed |affected |target |source )?files?(?:\s+(?:to\s+)?(?:create|modify|update|change|edit|delete|remove|add|touch|rename|replace)(?:\s*(?:/|,|and|&|or)\s*\w+)*|\s+(?:touched|changed|modified|created|affected|owned|updated|deleted))?|owns|ownership|creates?|modif(?:y|ies)|edits?|updates?|deletes?|removes?|renames?|deliverables?|outputs?|artifacts?|artefacts?|paths?|locations?|tests?)`;
const LABEL_RE = new RegExp(
  String.raw`^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\[[ xX]\]\s+)?${MARKUP}(${FILE_LABEL_WORDS})(?:\s*\([^)]*\))?${MARKUP}\s*[:：]${MARKUP}\s*(.*)$`,
  'i',
);
const HEADING_LABEL_RE = new RegExp(String.raw`^#{1,6}\s+.*?\b(${FILE_LABEL_WORDS})\s*$`, 'i');
/** Fields whose paths are read, not written. */
const NOT_WRITTEN_LABEL_RE =
  /^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*|__)?(?:depends[- ]on|dependenc(?:y|ies)|requires?|prerequisites?|blocked[- ]by|needs|after|reads?|read[- ]only|references?|context|see|sources?|source repo|inputs?|consumes|uses|based on|pattern|example|verify|verification|do not touch|files to not touch|not touched|don'?t touch|directories owned|owner)\b[^:：]{0,30}[:：]/i;
const NOT_WRITTEN_CELL_RE =
  /not touch|read[- ]only|owned|source|reference|dependenc|depends|prereq|blocked|requires|context|example|verify/i;
/** Words before a path that mean it is only cited. */
const CITED_RE =
  /\b(?:see|cf\.?|per|follow(?:ing|s)?(?: the)?(?: same)? patterns?|pattern (?:in|from|of)|patterns? (?:in|from)|based on|similar to|modell?ed (?:on|after)|mirror(?:s|ing)?|like|as in|as done in|refer(?:ence)?s? to|reference|read(?:s|ing)?(?: from)?|uses?|using|e\.g\.?|for example|example|before|inspired by|documented in|described in|defined in|already|exists? in|existing|currently|compare|copy of|consult|look at)\b[^.;!?]*$/i;
const CLAUSE_BREAK_RE = /[.;!?](?:\s|$)|\s[—–]\s|\s-\s/g;

function actionOfLabel(label: string): FileAction {
  const l = label.toLowerCase();
  if (/delete|remove/.test(l)) return 'delete';
  if (/create|new|add|output|artifact|artefact|deliverable/.test(l) && !/modify|update|change|edit/.test(l))
    return 'create';
  if (/modif|update|change|edit|touch|rename|replace/.test(l) && !/create/.test(l)) return 'modify';
  return 'unknown';
}

function actionOfText(text: string): FileAction {
  if (/\(new(?: file)?\)|\bnew file\b/i.test(text)) return 'create';
  const verb =
    /\b(create|add|new|write|generate|scaffold|introduce|implement|delete|remove|drop|update|modify|edit|change|fix|refactor|replace|rewrite|extend|migrate|rename|convert|move|wire|patch|extract)\b/i.exec(
      text,
    )?.[1];
  if (!verb) return 'unknown';
  return actionOfLabel(
    /create|add|new|write|generate|scaffold|introduce|implement/i.test(verb)
      ? 'create'
      : /delete|remove|drop/i.test(verb)
        ? 'delete'
        : 'modify',
  );
}

interface Token {
  readonly text: string;
  readonly start: number;
  readonly quoted: boolean;
}

/** Path-like tokens of a line: backticked spans and bare words containing a dot or slash. */
function tokens(line: string): Token[] {
  const out: Token[] = [];
  const codeSpans: [number, number][] = [];
  for (const match of line.matchAll(/`([^`]+)`/g)) {
    out.push({ text: match[1] ?? '', start: match.index, quoted: true });
    codeSpans.push([match.index, match.index + match[0].length]);
  }
  // Labels stop at a bracket and targets at white space, so a line of unclosed brackets stays linear.
  const stripped = line.replace(/\[([^\][]*)\]\([^)\s]*\)/g, (m: string, label: string) =>
    label.padEnd(m.length),
  );
  // Whole runs of path characters that contain a dot or slash: the same tokens as
  // `[\w.*/@~-]*[./][\w.*/@~-]*`, without its backtracking through every dotless run (quadratic).
  let span = 0;
  for (const match of stripped.matchAll(/[\w.*/@~-]+/g)) {
    if (!/[./]/.test(match[0])) continue;
    const start = match.index;
    // Spans and matches both come in line order: one pointer instead of a scan per token.
    while (span < codeSpans.length && (codeSpans[span]?.[1] ?? 0) <= start) span++;
    const current = codeSpans[span];
    if (current && start >= current[0] && start < current[1]) continue;
    if (/https?:$|:\/\/$/.test(stripped.slice(Math.max(0, start - 8), start))) continue;
    out.push({ text: match[0], start, quoted: false });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** How far back before a token a citation word is looked for (one clause of a plan is far shorter). */
const CITATION_WINDOW = 400;

/** Why a path-like token was not taken as a file: a citation, an example, or null when it is not cited. */
function citation(line: string, start: number): string | null {
  // Only the text just before the token is read, so a line of thousands of tokens stays linear.
  const before = line.slice(Math.max(0, start - CITATION_WINDOW), start);
  let clauseStart = 0;
  for (const match of before.matchAll(CLAUSE_BREAK_RE)) clauseStart = match.index + match[0].length;
  const clause = CITED_RE.exec(before.slice(clauseStart));
  if (!clause) return null;
  return /^(?:e\.g|for example|example|before)/i.test(clause[0])
    ? `named as an example ("${clause[0].trim().slice(0, 40)}")`
    : `cited for context ("${clause[0].trim().slice(0, 40)}")`;
}

/** A path-like token of a phase that was not taken as one of its files, and why. */
export interface SkippedPath {
  readonly path: string;
  readonly line: number;
  readonly reason: string;
}

/** A token that looks like a repository path even though the reader will not take it. */
function pathLike(text: string, quoted: boolean): string | null {
  return normalisePath(text, { allowDirectory: true, quoted });
}

function splitRow(line: string): string[] {
  const trimmed = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return trimmed.split(/(?<!\\)\|/).map((c) => c.trim());
}

/** Collects the files of one phase (lines `from`..`to`, inclusive). */
export class FileCollector {
  private readonly files: PlanFile[] = [];
  private readonly seen = new Set<string>();
  /** Path-like tokens not taken, first reason per path. */
  readonly skipped: SkippedPath[] = [];
  private readonly skippedSeen = new Set<string>();

  /** Records a path-like token that is not one of the phase's files. */
  skip(path: string | null, line: number, reason: string): void {
    if (path === null || this.skippedSeen.has(path)) return;
    this.skippedSeen.add(path);
    this.skipped.push({ path, line, reason });
  }

  /** Records every path-like token of a line the reader does not take files from. */
  skipLine(text: string, line: number, reason: string): void {
    for (const token of tokens(text)) this.skip(pathLike(token.text, token.quoted), line, reason);
  }

  private add(path: string | null, action: FileAction, line: number): void {
    if (path === null || this.seen.has(path)) return;
    this.seen.add(path);
    this.files.push({ path, action, glob: isGlob(path), line });
  }

  /** Every path of a file-list entry or labelled value (directories allowed). */
  addListed(text: string, action: FileAction, line: number, firstOnly: boolean): void {
    let lineAction: FileAction | undefined;
    for (const token of tokens(text)) {
      const cited = citation(text, token.start);
      if (cited !== null) {
        this.skip(pathLike(token.text, token.quoted), line, cited);
        continue;
      }
      const path = normalisePath(token.text, { allowDirectory: true, quoted: token.quoted });
      if (path === null) continue;
      this.add(path, action === 'unknown' ? (lineAction ??= actionOfText(text)) : action, line);
      // A list entry names one file, or a rename pair `old.js` → `new.ts`.
      if (firstOnly && !/^\s*(?:→|->|=>)/.test(text.slice(token.start + token.text.length + 2))) return;
    }
  }

  /** Paths written in prose or bullets (files only, not cited ones). */
  addProse(text: string, line: number): void {
    for (const url of text.matchAll(/\b[a-z][\w+.-]*:\/\/[^\s`)>\]]+/gi))
      if (/\/[^/]+\.[a-z]{1,8}$/i.test(url[0].replace(/[.,;:!?]+$/, '')))
        this.skip(url[0].replace(/[.,;:!?]+$/, ''), line, 'a URL, not a repository path');
    let lineAction: FileAction | undefined;
    for (const token of tokens(text)) {
      const cited = citation(text, token.start);
      if (cited !== null) {
        this.skip(pathLike(token.text, token.quoted), line, cited);
        continue;
      }
      const path = normalisePath(token.text, { quoted: token.quoted });
      if (path !== null) this.add(path, (lineAction ??= actionOfText(text)), line);
      else if (/^[a-z][\w+.-]*:\/\//i.test(token.text))
        this.skip(token.text.replace(/[.,;:!?)]+$/, ''), line, 'a URL, not a repository path');
      else {
        const directory = pathLike(token.text, token.quoted);
        if (directory?.endsWith('/'))
          this.skip(directory, line, 'a directory; only entries of a file list name directories');
      }
    }
  }

  /** The files, keeping only the full path when a short form of it was also written. */
  result(): PlanFile[] {
    // Every tail after a slash, to the first path that ends with it: one lookup per file, not a scan.
    const fullByTail = new Map<string, string>();
    for (const { path } of this.files) {
      for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
        const tail = path.slice(i + 1);
        if (!fullByTail.has(tail)) fullByTail.set(tail, path);
      }
    }
    return this.files.filter((f) => {
      const full = fullByTail.get(f.path);
      if (full !== undefined) this.skip(f.path, f.line, `a short form of ${full}, which is recorded`);
      return full === undefined;
    });
  }
}

/** Reads the files of the phase spanning `from`..`to`. */
export function collectFiles(
  doc: MarkdownDoc,
  from: number,
  to: number,
  skip?: (line: number) => boolean,
  skipped?: SkippedPath[],
): PlanFile[] {
  const collector = new FileCollector();
  let listAction: FileAction | null = null;
  let listIndent = -1;
  let pathColumn = -1;
  let inTable = false;
  /** Indent of the read-only label whose list is being read (-1: not itself a bullet), or null. */
  let readOnlyIndent: number | null = null;
  for (let line = from; line <= to; line++) {
    const text = doc.lines[line - 1] ?? '';
    if (skip?.(line) === true) continue;
    if (doc.inCode[line] === true) {
      if (skipped && !/^\s*(?:```|~~~)/.test(text))
        collector.skipLine(text, line, 'inside a code block (commands, code and trees are not read)');
      continue;
    }
    if (text.trim() === '') continue;
    const isRow = /^\s*\|/.test(text);
    if (!isRow) inTable = false;
    if (/^#{1,6}\s/.test(text)) {
      const heading = HEADING_LABEL_RE.exec(text);
      listAction = heading ? actionOfLabel(heading[1] ?? '') : null;
      if (!heading) collector.addProse(text.replace(/^#+\s*/, ''), line);
      continue;
    }
    if (isRow) {
      const cells = splitRow(text);
      const next = doc.lines[line] ?? '';
      if (!inTable) {
        inTable = true;
        pathColumn = /^\s*\|?\s*:?-{2,}/.test(next)
          ? cells.findIndex((c) => /\b(?:files?|paths?|locations?)\b/i.test(c) && !/owner|count|#/i.test(c))
          : -1;
        if (/^\s*\|?\s*:?-{2,}/.test(next)) continue;
      }
      if (/^\s*\|?\s*:?-{2,}/.test(text)) continue;
      const label = (cells[0] ?? '').replace(/[*_`]/g, '');
      if (cells.length >= 2 && LABEL_RE.test(`${label}:`) && !NOT_WRITTEN_CELL_RE.test(label)) {
        collector.addListed(cells.slice(1).join(' , '), actionOfLabel(label), line, false);
        continue;
      }
      if (cells.length >= 2 && NOT_WRITTEN_CELL_RE.test(label) && pathColumn !== 0) continue;
      cells.forEach((cell, index) => {
        if (index === pathColumn) collector.addListed(cell, 'unknown', line, false);
        else collector.addProse(cell, line);
      });
      continue;
    }
    if (NOT_WRITTEN_LABEL_RE.test(text)) {
      listAction = null;
      // A read-only label with nothing after it ("**Context to load:**") introduces a list of such paths.
      const bulleted = /^\s*(?:[-*+]|\d+[.)])\s/.test(text);
      readOnlyIndent = /[:：](?:\*\*|__)?\s*$/.test(text)
        ? bulleted
          ? (/^\s*/.exec(text)?.[0].length ?? 0)
          : -1
        : null;
      collector.skipLine(text, line, 'in a read-only, context or dependency field');
      continue;
    }
    // The bullets under a read-only label are read-only too.
    const item = /^(\s*)(?:[-*+]|\d+[.)])\s/.exec(text);
    if (readOnlyIndent !== null && item && (item[1]?.length ?? 0) > readOnlyIndent && !LABEL_RE.test(text)) {
      collector.skipLine(text, line, 'in a read-only, context or dependency field');
      continue;
    }
    readOnlyIndent = null;
    const label = LABEL_RE.exec(text);
    if (label) {
      const action = actionOfLabel(label[1] ?? '');
      const rest = label[2] ?? '';
      if (rest.trim() === '' || /^\(.*\)$/.test(rest.trim())) {
        listAction = action;
        listIndent = /^\s*/.exec(text)?.[0].length ?? 0;
      } else {
        collector.addListed(rest, action, line, false);
      }
      continue;
    }
    const bullet = /^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$/.exec(text);
    if (listAction !== null && bullet) {
      collector.addListed(bullet[2] ?? '', listAction, line, true);
      continue;
    }
    if (listAction !== null && !bullet && (/^\s*/.exec(text)?.[0].length ?? 0) <= listIndent)
      listAction = null;
    collector.addProse(text, line);
  }
  const files = collector.result();
  if (skipped) {
    const taken = new Set(files.map((f) => f.path));
    skipped.push(...collector.skipped.filter((p) => !taken.has(p.path)));
  }
  return files;
}
