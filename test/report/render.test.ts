import { describe, expect, it } from 'vitest';
import { buildRunReport } from '../../src/report/build.js';
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
    expect(md).toContain('Critical fixes addressed: 2/5');
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
