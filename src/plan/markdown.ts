/**
 * Markdown structure the parser needs, read once with mdast (CommonMark + GFM + front matter):
 * headings, fenced code blocks, top-level list items and the front matter, all with 1-based lines.
 * Everything else works on the raw lines, with fenced code masked out, so that labels such as
 * `**Files:**` keep their exact spelling.
 */
import { fromMarkdown } from 'mdast-util-from-markdown';
import { frontmatterFromMarkdown } from 'mdast-util-frontmatter';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { frontmatter } from 'micromark-extension-frontmatter';
import { gfm } from 'micromark-extension-gfm';
import type { ListItem, Nodes } from 'mdast';

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

/** Plain text of an mdast node (inline code keeps its backticks so paths stay recognisable). */
export function plainText(node: Nodes): string {
  switch (node.type) {
    case 'text':
      return node.value;
    case 'inlineCode':
      return '`' + node.value + '`';
    case 'code':
    case 'html':
    case 'yaml':
      return '';
    case 'break':
      return ' ';
    default:
      if ('children' in node) return (node.children as Nodes[]).map(plainText).join('');
      return '';
  }
}

/** Sections are parsed in chunks of about this many lines: micromark slows down sharply on long documents. */
const CHUNK_LINES = 150;

interface Chunk {
  /** 0-based index of the chunk's first line in the document. */
  readonly offset: number;
  readonly text: string;
}

/**
 * Splits the document before headings (outside fences and front matter) once a chunk is long enough.
 * An ATX heading at column 0 always starts a new block in CommonMark, so chunks parse as the whole would.
 */
function splitChunks(lines: readonly string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let fence: string | null = null;
  let i = 0;
  if (/^---\s*$/.test(lines[0] ?? '')) {
    const close = lines.findIndex((l, n) => n > 0 && /^(?:---|\.\.\.)\s*$/.test(l));
    if (close > 0) i = close + 1;
  }
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== null) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker)
        fence = null;
      continue;
    }
    if (marker) {
      fence = marker;
      continue;
    }
    if (i - start >= CHUNK_LINES && /^#{1,6}(?:\s|$)/.test(line)) {
      chunks.push({ offset: start, text: lines.slice(start, i).join('\n') });
      start = i;
    }
  }
  chunks.push({ offset: start, text: lines.slice(start).join('\n') });
  return chunks;
}

interface Positioned {
  position?: { start: { line: number }; end: { line: number } } | undefined;
}

/** Parses Markdown into the structure the plan parser reads. */
export function readMarkdown(text: string): MarkdownDoc {
  const lines = text.split(/\r?\n/);
  const headings: HeadingInfo[] = [];
  const codeBlocks: CodeBlockInfo[] = [];
  const listItems: TopListItem[] = [];
  const inCode: boolean[] = new Array<boolean>(lines.length + 2).fill(false);
  let frontMatterInfo: MarkdownDoc['frontMatter'] = null;

  for (const chunk of splitChunks(lines)) {
    const tree = fromMarkdown(chunk.text, {
      extensions: [gfm(), frontmatter(['yaml'])],
      mdastExtensions: [gfmFromMarkdown(), frontmatterFromMarkdown(['yaml'])],
    });
    const lineOf = (node: Positioned): number => (node.position?.start.line ?? 1) + chunk.offset;
    const endLineOf = (node: Positioned): number => (node.position?.end.line ?? 1) + chunk.offset;

    // Code blocks can sit inside lists and blockquotes, so walk the whole tree for them.
    const stack: Nodes[] = [tree];
    while (stack.length > 0) {
      const node = stack.pop();
      if (!node) break;
      if (node.type === 'code') {
        const line = lineOf(node);
        const endLine = endLineOf(node);
        codeBlocks.push({ line, endLine, lang: (node.lang ?? '').toLowerCase(), value: node.value });
        for (let l = line; l <= endLine; l++) inCode[l] = true;
        continue;
      }
      if ('children' in node) {
        const children = node.children as Nodes[];
        for (let i = children.length - 1; i >= 0; i--) {
          const child = children[i];
          if (child) stack.push(child);
        }
      }
    }

    for (const child of tree.children) {
      if (child.type === 'heading') {
        headings.push({ line: lineOf(child), depth: child.depth, text: plainText(child).trim() });
      } else if (child.type === 'list') {
        const start = child.start ?? 1;
        child.children.forEach((item: ListItem, index) => {
          const first = item.children[0];
          listItems.push({
            line: lineOf(item),
            endLine: endLineOf(item),
            text: first ? plainText(first).trim() : '',
            checked: item.checked ?? null,
            ordinal: child.ordered ? start + index : null,
          });
        });
      } else if (child.type === 'yaml' && frontMatterInfo === null && lineOf(child) === 1) {
        frontMatterInfo = { value: child.value, line: 1, endLine: endLineOf(child) };
      }
    }
  }
  codeBlocks.sort((a, b) => a.line - b.line);
  return { lines, headings, codeBlocks, inCode, listItems, frontMatter: frontMatterInfo };
}
