/**
 * Opens the HTML report in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * it must render without console errors, draw one timeline bar per stream, and leave a screenshot.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
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

describe.skipIf(skip)('HTML report in headless Chromium', () => {
  it('renders with no console errors, one bar per stream, and a screenshot', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'maestro-report-'));
    const userDataDir = await mkdtemp(path.join(tmpdir(), 'maestro-chromium-'));
    const file = path.join(dir, 'report.html');
    const report = buildRunReport({ events, analysis, completionReports });
    await writeFile(file, renderHtml(report));
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
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
      await rm(userDataDir, { recursive: true, force: true });
    }
  });
});
