/**
 * Markdown structure the parser needs, read once with markdown-it (CommonMark): headings, fenced and
 * indented code blocks, top-level list items (with GFM task-list checkboxes) and YAML front matter,
 * all with 1-based lines. Everything else works on the raw lines, with code masked out, so that labels
 * such as `**Files:**` keep their exact spelling.
 *
 * Why markdown-it and not mdast-util-from-markdown: both follow CommonMark, but micromark took ~2 s
 * for a 2,000-phase (300 kB) plan here, markdown-it's block pass ~0.1 s. Only block structure is
 * needed, so inline parsing runs just for headings and list items' first paragraphs.
 */
import MarkdownIt, { type Token } from 'markdown-it';

/** A heading outside code, with its plain text. */
export interface HeadingInfo {
  readonly line: number;
  readonly depth: number;
  readonly text: string;
}

/** A fenced or indented code block. */
export interface CodeBlockInfo {
  readonly line: number;
  readonly endLine: number;
  readonly lang: string;
  readonly value: string;
}

/** An item of a list that sits directly in the document (not nested in another list). */
export interface TopListItem {
  readonly line: number;
  readonly endLine: number;
  /** Plain text of the item's first paragraph. */
  readonly text: string;
  /** Checkbox state for GFM task-list items, null otherwise. */
  readonly checked: boolean | null;
  /** Number shown for ordered lists. */
  readonly ordinal: number | null;
}

/** The document: raw lines plus the structure mdast found. */
export interface MarkdownDoc {
  readonly lines: readonly string[];
  readonly headings: readonly HeadingInfo[];
  readonly codeBlocks: readonly CodeBlockInfo[];
  /** `inCode[line]` is true when the 1-based line belongs to a code block (fences included). */
  readonly inCode: readonly boolean[];
  readonly listItems: readonly TopListItem[];
  readonly frontMatter: { readonly value: string; readonly line: number; readonly endLine: number } | null;
}

/** Block-level parser: the core `inline` pass is off; inline text is parsed on demand. */
const md = new MarkdownIt('commonmark');
md.core.ruler.disable(['inline', 'text_join']);
/** Inline parser for the few texts that need it (the block parser's inline pass is off). */
const inlineMd = new MarkdownIt('commonmark');

/** Plain text of inline Markdown (inline code keeps its backticks so paths stay recognisable). */
export function plainText(inline: string): string {
  // Most list items and headings are plain words and single-backtick code: their text is themselves.
  if (!/[*_[\]!<>&\\~]|``|^\s|\s$/.test(inline)) return inline;
  const [root] = inlineMd.parseInline(inline, {});
  let out = '';
  for (const token of root?.children ?? []) {
    switch (token.type) {
      case 'text':
        out += token.content;
        break;
      case 'code_inline':
        out += '`' + token.content + '`';
        break;
      case 'softbreak':
        out += '\n';
        break;
      case 'hardbreak':
        out += ' ';
        break;
      default:
        // Markup (emphasis, links) adds no text of its own; images and raw HTML add none either.
        break;
    }
  }
  return out;
}

/** GFM task-list checkbox at the start of an item's first paragraph. */
const TASK_RE = /^\[([ xX])\](?:\s+|$)/;

/** YAML front matter: `---` on line 1 up to the next `---` (or `...`) line. */
function frontMatterRange(lines: readonly string[]): { endLine: number } | null {
  if (!/^---\s*$/.test(lines[0] ?? '')) return null;
  for (let i = 1; i < lines.length; i++) {
    if (/^(?:---|\.\.\.)\s*$/.test(lines[i] ?? '')) return { endLine: i + 1 };
  }
  return null;
}

/** Parses Markdown into the structure the plan parser reads. */
export function readMarkdown(text: string): MarkdownDoc {
  const lines = text.split(/\r?\n/);
  const headings: HeadingInfo[] = [];
  const codeBlocks: CodeBlockInfo[] = [];
  const listItems: TopListItem[] = [];
  const inCode: boolean[] = new Array<boolean>(lines.length + 2).fill(false);

  // markdown-it knows no front matter (it would read `---` as a rule or a setext underline):
  // blank it out, keeping the line count so every position stays right.
  const front = frontMatterRange(lines);
  const frontMatter = front && {
    value: lines.slice(1, front.endLine - 1).join('\n'),
    line: 1,
    endLine: front.endLine,
  };
  const body = front
    ? [...lines.slice(0, front.endLine).map(() => ''), ...lines.slice(front.endLine)]
    : lines;
  const tokens: Token[] = md.parse(body.join('\n'), {});

  // `map` is [first line, line after the block), 0-based; trailing blank lines are not part of a block.
  const firstLine = (t: Token): number => (t.map?.[0] ?? 0) + 1;
  const lastLine = (t: Token): number => {
    let end = t.map?.[1] ?? 1;
    while (end > (t.map?.[0] ?? 0) + 1 && (body[end - 1] ?? '').trim() === '') end--;
    return end;
  };

  // Only lists directly in the document count (not lists inside blockquotes).
  let topList = false;
  let listDepth = 0;
  let ordinal: number | null = null;
  let itemIndex = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token) continue;
    switch (token.type) {
      case 'fence':
      case 'code_block': {
        const line = firstLine(token);
        // An unclosed fence runs to the end of the document, blank lines included (as CommonMark says).
        const endLine = token.map?.[1] ?? line;
        const lang = token.type === 'fence' ? (token.info.trim().split(/\s+/)[0] ?? '') : '';
        codeBlocks.push({ line, endLine, lang: lang.toLowerCase(), value: token.content.replace(/\n$/, '') });
        for (let l = line; l <= endLine; l++) inCode[l] = true;
        break;
      }
      case 'heading_open':
        if (listDepth === 0 && token.level === 0) {
          const inline = tokens[i + 1];
          headings.push({
            line: firstLine(token),
            depth: Number(token.tag.slice(1)),
            text: plainText(inline?.content ?? '').trim(),
          });
        }
        break;
      case 'bullet_list_open':
      case 'ordered_list_open':
        if (listDepth === 0 && token.level === 0) {
          topList = true;
          ordinal = token.type === 'ordered_list_open' ? Number(token.attrGet('start') ?? 1) : null;
          itemIndex = 0;
        }
        if (topList) listDepth++;
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        if (topList) listDepth--;
        if (listDepth === 0) topList = false;
        break;
      case 'list_item_open':
        if (listDepth === 1) {
          // The item's first block: a paragraph (its inline text) or anything else (no text).
          const first = tokens[i + 1];
          const inline =
            first?.type === 'paragraph_open' || first?.type === 'heading_open' ? tokens[i + 2] : undefined;
          let content = inline?.type === 'inline' ? inline.content : '';
          const task = TASK_RE.exec(content);
          if (task) content = content.slice(task[0].length);
          listItems.push({
            line: firstLine(token),
            endLine: lastLine(token),
            text: plainText(content).trim(),
            checked: task ? task[1] !== ' ' : null,
            ordinal: ordinal === null ? null : ordinal + itemIndex,
          });
          itemIndex++;
        }
        break;
      default:
        break;
    }
  }
  return { lines, headings, codeBlocks, inCode, listItems, frontMatter };
}
