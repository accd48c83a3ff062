/**
 * Whether a completion report addresses a critical fix: it names the fix id, or it uses most of the
 * fix's key words. A heuristic for the reader's attention, not a proof: the report says so.
 */
import type { FixCoverage } from './types.js';

/** Words too common to show that a report deals with a particular fix. */
const stopWords = new Set([
  'about',
  'after',
  'before',
  'every',
  'other',
  'should',
  'their',
  'there',
  'these',
  'those',
  'which',
  'while',
  'where',
  'would',
  'could',
  'must',
  'with',
  'from',
  'into',
  'that',
  'this',
  'when',
  'never',
  'always',
  'make',
  'sure',
]);

/** Share of a fix's key words a report must contain to count as covering it. */
const coverageThreshold = 0.6;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The distinctive words of a fix's text (lower case, at least four letters, no stop words). */
export function keyWords(text: string): string[] {
  const words = text.toLowerCase().match(/[a-z][a-z0-9_-]{3,}/g) ?? [];
  return [...new Set(words.filter((word) => !stopWords.has(word)))];
}

/** True when `text` names the fix id as a whole token (`C1` matches "C1:" but not "C12" or "ABC1"). */
export function mentionsId(text: string, id: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9])${escapeRegExp(id)}(?![A-Za-z0-9])`, 'i').test(text);
}

/** How a completion report (or its absence) addresses one critical fix. */
export function fixCoverage(
  report: string | null,
  fix: { readonly id: string; readonly text: string },
): FixCoverage {
  if (report === null) return 'no-report';
  if (mentionsId(report, fix.id)) return 'mentioned';
  const words = keyWords(fix.text);
  if (words.length === 0) return 'not-mentioned';
  const haystack = report.toLowerCase();
  const found = words.filter((word) => haystack.includes(word)).length;
  return found / words.length >= coverageThreshold ? 'covered' : 'not-mentioned';
}

/** True for the coverages that count as addressed. */
export function isAddressed(coverage: FixCoverage): boolean {
  return coverage === 'mentioned' || coverage === 'covered';
}
