import { describe, expect, it } from 'vitest';
import { buildRunReport } from '../../src/report/build.js';
import { axisTicks } from '../../src/report/gantt.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { analysis, completionReports, events } from './fixture.js';

const report = buildRunReport({ events, analysis, completionReports });

describe('renderMarkdown', () => {
  const md = renderMarkdown(report, { linkPrefix: '.maestro/runs/run-1' });

  it('has the summary, estimate, streams, details and waves', () => {
    expect(md).toContain('# Maestro run run-1: Shop backend');
    expect(md).toContain('- Status: **failed** (5 merged · 1 failed · 1 skipped)');
    expect(md).toContain('## Estimate vs actual');
    expect(md).toContain('| Cost | $2.28 | $2.00 |');
    expect(md).toContain('## Waves');
    expect(md).toContain('Out-of-scope changes (failed the stream): `src/api/routes.ts`');
    expect(md).toContain('Validation failed: `npm test` (exit 1)');
    expect(md).toContain('Critical fixes addressed: 2/4');
    // Named as analyze and analyze --json name them (estimate.minutes.dynamic).
    expect(md).toMatch(/\d+ min \(dynamic\) · \d+ min \(waves\) · \d+ min \(sequential\)/);
  });

  it('has one table row per stream, with pipes in titles escaped', () => {
    const rows = md.split('\n').filter((l) => /^\| s\d /.test(l));
    expect(rows).toHaveLength(7);
    expect(md).toContain('| s6 | API \\| routes | api |');
  });

  it('links completion reports relative to the output file', () => {
    expect(md).toContain('[MIGRATION_COMPLETE.md](.maestro/runs/run-1/streams/s1/MIGRATION_COMPLETE.md)');
  });
});

describe('renderJson', () => {
  it('round-trips the report model', () => {
    expect(JSON.parse(renderJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
  });
});

describe('renderHtml', () => {
  const html = renderHtml(report);

  it('is self-contained: no external resources, a CSP that forbids fetching', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`default-src 'none'`);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('draws one Gantt bar per stream and one graph node per stream', () => {
    expect(html.match(/<g class="bar /g)).toHaveLength(7);
    expect(html.match(/<g class="node /g)).toHaveLength(7);
    expect(html).toContain('class="seg seg-failed"');
    expect(html).toContain('class="seg seg-skipped"');
    expect(html).toContain('class="edge implicit"');
  });

  it('escapes plan text', () => {
    expect(html).toContain('Pipeline &lt;batch&gt;');
    expect(html).not.toContain('Pipeline <batch>');
  });
});

describe('the timeline axis', () => {
  const labels = (spanMs: number) => axisTicks(spanMs).map((t) => t.label);

  it('labels ticks at round, distinct steps whatever the run length', () => {
    expect(labels(5000)).toEqual(['+0s', '+1s', '+2s', '+3s', '+4s', '+5s']);
    expect(labels(2400)).toEqual(['+0.0s', '+0.5s', '+1.0s', '+1.5s', '+2.0s']);
    expect(labels(59_000)).toEqual(['+0s', '+10s', '+20s', '+30s', '+40s', '+50s']);
    expect(labels(7 * 60_000)).toEqual(['+0s', '+2m 00s', '+4m 00s', '+6m 00s']);
    expect(labels(3 * 3_600_000)).toEqual([
      '+0s',
      '+30m 00s',
      '+1h 00m',
      '+1h 30m',
      '+2h 00m',
      '+2h 30m',
      '+3h 00m',
    ]);
    for (const span of [1, 450, 1234, 5999, 61_000, 86_400_000 * 3]) {
      const ticks = axisTicks(span);
      expect(new Set(ticks.map((t) => t.label)).size, String(span)).toBe(ticks.length);
      expect(ticks.length).toBeLessThanOrEqual(7);
      expect(ticks.every((t) => t.offsetMs <= span)).toBe(true);
    }
  });

  it('draws the fixture run with distinct labels', () => {
    const drawn = [...renderHtml(report).matchAll(/class="tick-label"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(drawn.length).toBeGreaterThan(2);
    expect(new Set(drawn).size).toBe(drawn.length);
  });
});
