import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { renderComparisonHtml, renderHtml, reportCharts, comparisonCharts } from '../../../reporters/index.js';
import { compareReports } from '../../../src/report/index.js';
import { syntheticReport } from '../../fixtures/report/synthetic.js';

// The HTML report in a real headless Chromium (Debian's chromium package, driven by
// playwright-core): no console errors, no request that is not file: or data:, every chart
// drawn with data points, screenshots kept in sli-report/artifacts/.
// Skips with the reason when the browser is missing (KUBE_SLI_CHROMIUM overrides the path).

const CHROMIUM = process.env.KUBE_SLI_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = fileURLToPath(new URL('../../../sli-report/artifacts/', import.meta.url));
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface PageState {
  charts: Array<{ id: string; title: string; points: number; series: number }>;
  errors: string[];
  done: boolean;
}

const title = HAVE_CHROMIUM
  ? 'HTML report in headless Chromium'
  : `HTML report in headless Chromium — SKIPPED: ${CHROMIUM} not found (apt-get install chromium, or set KUBE_SLI_CHROMIUM)`;

if (!HAVE_CHROMIUM) console.warn(`kube-sli: ${title}`);

describe.skipIf(!HAVE_CHROMIUM)(title, () => {
  let context: BrowserContext;
  let profile: string;
  let work: string;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    profile = await mkdtemp(join(tmpdir(), 'kube-sli-chromium-'));
    work = await mkdtemp(join(tmpdir(), 'kube-sli-html-'));
    await mkdir(ARTIFACTS, { recursive: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function open(name: string, html: string, expectedCharts: string[]) {
    const file = join(work, `${name}.html`);
    await writeFile(file, html);
    await writeFile(join(ARTIFACTS, `${name}.html`), html);
    const page = await context.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith('file:') && !url.startsWith('data:')) foreign.push(url);
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(file).href);
    // In-page code as strings: the project's tsconfig has no DOM types, on purpose.
    await page.waitForFunction('window.__kubeSli !== undefined && window.__kubeSli.done === true', undefined, { timeout: 20_000 });
    const state = await page.evaluate<PageState>('window.__kubeSli');
    // Pixels actually drawn on each chart's canvas (not just an empty frame). Series strokes
    // are saturated colours; grid lines and text are grey.
    const inked = await page.evaluate<number[]>(`(${JSON.stringify(expectedCharts)}).map(function (id) {
      var canvas = document.querySelector('#' + id + ' canvas');
      if (!canvas) return 0;
      var data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      var colored = 0;
      for (var i = 0; i < data.length; i += 4) {
        var r = data[i], g = data[i + 1], b = data[i + 2], a = data[i + 3];
        if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) colored++;
      }
      return colored;
    })`);
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    await page.close();
    return { state, problems, foreign, inked };
  }

  test('run report: every chart drawn with data points, no errors, no network', async () => {
    const doc = syntheticReport({ mode: 'iptables' });
    const specs = reportCharts(doc);
    expect(specs.length).toBeGreaterThanOrEqual(10);
    const { state, problems, foreign, inked } = await open('report', renderHtml(doc), specs.map((s) => s.id));
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    expect(state.errors).toEqual([]);
    expect(state.charts.map((c) => c.id)).toEqual(specs.map((s) => s.id));
    for (const c of state.charts) expect(c.points, c.title).toBeGreaterThan(0);
    inked.forEach((n, i) => expect(n, specs[i]?.title).toBeGreaterThan(50));
  }, 60_000);

  test('comparison report: overlay charts drawn, warning visible', async () => {
    const cmp = compareReports(syntheticReport({ mode: 'nftables' }), syntheticReport({ mode: 'iptables' }));
    const specs = comparisonCharts(cmp);
    const html = renderComparisonHtml(cmp);
    expect(html).toContain('WARNING: the runs come from different environments');
    const { state, problems, foreign, inked } = await open('compare', html, specs.map((s) => s.id));
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    expect(state.errors).toEqual([]);
    expect(state.charts).toHaveLength(specs.length);
    for (const c of state.charts) expect(c.points, c.title).toBeGreaterThan(0);
    inked.forEach((n, i) => expect(n, specs[i]?.title).toBeGreaterThan(50));
  }, 60_000);
});
