/** Number and time formatting shared by the report renderers. */
import type { FixCoverage, StatusCounts, UsageTotals } from './types.js';

/** `1h 02m`, `4m 05s`, `12s`, or `–` when unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** `$4.12` (cents), `$0.0042` below a cent so small runs do not show as free. */
export function formatUsd(usd: number | null): string {
  if (usd === null) return '–';
  if (usd !== 0 && Math.abs(usd) < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/** `1.2M`, `34.5k`, `812`. */
export function formatTokens(tokens: number): string {
  if (tokens >= 1_000_000) return `${(tokens / 1_000_000).toFixed(1)}M`;
  if (tokens >= 1000) return `${(tokens / 1000).toFixed(1)}k`;
  return String(tokens);
}

/** Input and output tokens as `12.0k in / 3.4k out`. */
export function formatUsage(usage: UsageTotals): string {
  return `${formatTokens(usage.inputTokens)} in / ${formatTokens(usage.outputTokens)} out`;
}

/** Wall-clock time of day in UTC (`14:03:27`), or `–`. */
export function formatClock(iso: string | null): string {
  return iso === null ? '–' : iso.slice(11, 19);
}

/** `7 merged · 1 failed · 2 skipped`, listing only the non-zero counts. */
export function formatCounts(counts: StatusCounts): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  return parts.length > 0 ? parts.join(' · ') : 'no streams';
}

/** A short word for a fix's coverage, for tables. */
export function formatCoverage(coverage: FixCoverage): string {
  switch (coverage) {
    case 'mentioned':
      return 'mentioned';
    case 'covered':
      return 'covered (key words)';
    case 'not-mentioned':
      return 'NOT mentioned';
    case 'no-report':
      return 'no report';
  }
}

/** Joins a path prefix and a relative path with `/` (report links are URLs, not OS paths). */
export function joinLink(prefix: string, path: string): string {
  if (prefix === '' || prefix === '.') return path;
  return `${prefix.replace(/\/+$/, '')}/${path}`;
}
