/**
 * Opens the HTML report in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * it must render without console errors, draw one timeline bar per stream, and leave a screenshot.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildRunReport } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/html.js';
import { analysis, completionReports, events } from './fixture.js';

const chromiumPath = '/usr/bin/chromium';
const available = existsSync(chromiumPath);
// In CI the browser must be there (.ci/run installs it); locally a missing browser only skips.
const skip = !available && process.env['CI'] === undefined;
if (skip) {
  console.warn(
    `[skip] HTML report browser test: ${chromiumPath} not found (install it: apt-get install -y chromium)`,
  );
}

/** Opens `html` in headless Chromium and hands the page to `use`, collecting console problems and requests. */
async function withPage(
  html: string,
  use: (page: Page, url: string, problems: string[], requests: string[]) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'maestro-report-'));
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'maestro-chromium-'));
  const file = path.join(dir, 'report.html');
  await writeFile(file, html);
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });
    await use(page, url, problems, requests);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
    await rm(userDataDir, { recursive: true, force: true });
  }
}

describe.skipIf(skip)('HTML report in headless Chromium', () => {
  it('renders with no console errors, one bar per stream, and a screenshot', async () => {
    const report = buildRunReport({ events, analysis, completionReports });
    await withPage(renderHtml(report), async (page, url, problems, requests) => {
      expect(await page.title()).toBe('Maestro report · run-1');
      expect(await page.locator('svg.gantt g.bar').count()).toBe(report.streams.length);
      expect(await page.locator('svg.graph g.node').count()).toBe(report.streams.length);
      // Every bar that ran has visible segments: the SVG really laid out.
      const box = await page
        .locator('svg.gantt g.bar[data-stream="s4"] rect.seg-running')
        .first()
        .boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(10);
      expect(await page.locator('table tbody tr').count()).toBeGreaterThanOrEqual(report.streams.length);

      await mkdir('test-results', { recursive: true });
      await page.screenshot({ path: path.join('test-results', 'report.png'), fullPage: true });
      expect(existsSync(path.join('test-results', 'report.png'))).toBe(true);
      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
    });
  });

  it('lets a graph of nine waves scroll sideways instead of cutting it off', async () => {
    // A chain s1 → s2 → … → s9: nine columns, wider than the window.
    const first = analysis.streams[0];
    if (first === undefined) throw new Error('fixture has no streams');
    const ids = Array.from({ length: 9 }, (_, i) => `s${String(i + 1)}`);
    const chain = {
      ...analysis,
      streams: ids.map((id, i) => ({
        ...first,
        id,
        title: `Step ${id}`,
        dependsOn: i === 0 ? [] : [ids[i - 1] ?? ''],
      })),
      waves: ids.map((id) => [id]),
      criticalPath: ids,
      startOrder: ids,
    };
    const report = buildRunReport({ events: [], analysis: chain, completionReports: new Map() });
    await withPage(renderHtml(report), async (page, _url, problems) => {
      expect(await page.locator('svg.graph g.node').count()).toBe(9);
      expect(await page.locator('p:has-text("Scroll sideways for the later waves")').count()).toBe(1);
      const viewport = page.viewportSize()?.width ?? 0;
      // The page itself does not overflow; the graph's own box scrolls.
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        viewport,
      );
      const box = page.locator('.scroll:has(svg.graph)');
      // (The test is compiled without the DOM library: the element is typed by what is used of it.)
      type Scrollable = { scrollWidth: number; clientWidth: number; scrollLeft: number };
      const [scrollWidth, clientWidth] = await box.evaluate((el: Scrollable) => [
        el.scrollWidth,
        el.clientWidth,
      ]);
      expect(scrollWidth).toBeGreaterThan(clientWidth);
      // Scrolled to its end, the last wave is in view, whole.
      await box.evaluate((el: Scrollable) => {
        el.scrollLeft = el.scrollWidth;
      });
      const last = await page.locator('svg.graph g.node[data-stream="s9"] rect').boundingBox();
      const container = await box.boundingBox();
      expect(last).not.toBeNull();
      expect(container).not.toBeNull();
      if (last === null || container === null) return;
      expect(last.x).toBeGreaterThanOrEqual(container.x);
      expect(last.x + last.width).toBeLessThanOrEqual(container.x + container.width);
      await mkdir('test-results', { recursive: true });
      await page.screenshot({ path: path.join('test-results', 'report-wide-graph.png'), fullPage: true });
      expect(problems).toEqual([]);
    });
  });
});
