// The committed trend example (reports/examples/trends/: runs of the smoke gate on this
// machine, the last with 40 ms on one gateway): today's renderers make exactly its trends.html
// and trends.md, it shows what the page is for (a regression ringed, the baseline line), and —
// where a headless Chromium is installed — the page renders to a screenshot.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIndex } from '../../../src/history/run-index.ts';
import { buildTrends } from '../../../src/history/trends.ts';
import { renderTrendsHtml } from '../../../src/report/trends-html.ts';
import { renderTrendsMarkdown } from '../../../src/report/trends-markdown.ts';

const DIR = path.resolve(import.meta.dirname, '../../../reports/examples/trends');
const INDEX = path.join(DIR, 'index.json');

function chromium(): string | undefined {
  const names = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'].filter((x): x is string => !!x);
  for (const n of names) {
    try {
      execFileSync(n, ['--version'], { stdio: 'ignore', timeout: 10_000 });
      return n;
    } catch {
      /* not this one */
    }
  }
  return undefined;
}

describe('reports/examples/trends', () => {
  const index = readIndex(INDEX);
  const trends = buildTrends(INDEX, index);

  it('holds at least five indexed runs, every one readable', () => {
    expect(index.runs.length).toBeGreaterThanOrEqual(5);
    expect(trends.runs.filter((r) => r.missing !== null)).toEqual([]);
  });

  it('trends.html and trends.md are today’s rendering of it', () => {
    const stale = 'stale: run node_modules/.bin/node scripts/render-examples.ts';
    expect(fs.readFileSync(path.join(DIR, 'trends.html'), 'utf8'), stale).toBe(renderTrendsHtml(trends));
    expect(fs.readFileSync(path.join(DIR, 'trends.md'), 'utf8'), stale).toBe(renderTrendsMarkdown(trends));
  });

  it('shows the regression of the faulted run and the baseline it was judged against', () => {
    const html = fs.readFileSync(path.join(DIR, 'trends.html'), 'utf8');
    expect(index.runs.some((r) => r.regression)).toBe(true);
    expect(html).toMatch(/class="regression"/);
    expect(trends.baseline).not.toBeNull();
    expect(html).toMatch(/stroke-dasharray="5,3"><title>baseline P99: /);
  });

  const bin = chromium();
  if (bin === undefined) console.warn('trends screenshot: skipped — no headless Chromium found (chromium, chromium-browser, google-chrome or $CHROMIUM)');
  it.skipIf(bin === undefined)('renders in headless Chromium (screenshot)', () => {
    const png = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-trends-shot-')), 'trends.png');
    execFileSync(bin!, ['--headless', '--no-sandbox', '--disable-gpu', `--screenshot=${png}`, '--window-size=1000,2400', `file://${path.join(DIR, 'trends.html')}`], { stdio: 'ignore', timeout: 60_000 });
    const buf = fs.readFileSync(png);
    expect(buf.subarray(1, 4).toString()).toBe('PNG');
    expect(buf.length).toBeGreaterThan(20_000);
  }, 90_000);
});
