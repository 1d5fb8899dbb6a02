import { beforeAll, describe, expect, test } from 'vitest';
import {
  comparisonCharts,
  conformanceView,
  renderComparisonHtml,
  renderComparisonMarkdown,
  renderComparisonText,
  renderConformanceHtml,
  renderConformanceMarkdown,
  renderConsole,
  renderHtml,
  renderJUnit,
  renderMarkdown,
  reportCharts,
} from '../../../reporters/index.js';
import { fmt, fmtPercent } from '../../../reporters/format.js';
import { buildReport, compareReports, type ReportDocument } from '../../../src/report/index.js';
import { evaluateSlo, formatValue } from '../../../src/sli/index.js';
import { syntheticReport } from '../../fixtures/report/synthetic.js';

let ipt: ReportDocument;
let nft: ReportDocument;
let empty: ReportDocument;

beforeAll(() => {
  ipt = syntheticReport({ mode: 'iptables' });
  nft = syntheticReport({ mode: 'nftables' });
  empty = { ...ipt, series: [] };
});

function passing(): ReportDocument {
  return { ...nft, series: nft.series.filter((s) => s.verdict?.status === 'pass') };
}

describe('format', () => {
  test('matches src/sli formatValue (the display rule is repeated, not imported)', () => {
    for (const v of [0, 1.5e-9, 176e-6, 999.7e-6, 1.234e-3, 2.5, -3e-6, Infinity, Number.NaN]) expect(fmt(v, 'time')).toBe(formatValue(v, 'time'));
    for (const v of [940e6, 1.1e9, 12, 1e13]) expect(fmt(v, 'throughput')).toBe(formatValue(v, 'throughput'));
    expect(fmt(0.91234, 'dimensionless')).toBe(formatValue(0.91234, 'dimensionless'));
    expect(fmt(null, 'time')).toBe('–');
    expect(fmtPercent(0.05)).toBe('+5%');
    expect(fmtPercent(-0.9091)).toBe('-90.9%');
  });
});

describe('conformance', () => {
  test('failed SLOs mean not conformant', () => {
    const c = conformanceView(ipt);
    expect(c.conformant).toBe(false);
    expect(c.headline).toBe('not conformant: 2 SLOs failed (of 20)');
  });
  test('all passed: conformant; no SLOs: not conformant', () => {
    expect(conformanceView(passing()).conformant).toBe(true);
    expect(conformanceView(empty).headline).toBe('not conformant: no SLO was evaluated');
  });
  test('an inconclusive SLO means not conformant', () => {
    const slo = { sli: 'first_packet_latency_seconds', thresholds: ['p(99)<1ms'], minSamples: 100 };
    const samples = [1e-5, 2e-5];
    const doc = buildReport({
      kitVersion: '0.1.0',
      environment: ipt.environment,
      startedAt: new Date(0),
      endedAt: new Date(1),
      profile: 'strict',
      results: [{ sli: slo.sli, source: 'capture', samples, slo, verdict: evaluateSlo(slo, { samples }) }],
    });
    const c = conformanceView(doc);
    expect(c.conformant).toBe(false);
    expect(c.headline).toBe('not conformant: 1 inconclusive (of 1)');
    expect(renderConformanceMarkdown(doc)).toMatch(/^# kube-sli conformance: ❌ NOT CONFORMANT/);
  });
});

describe('console', () => {
  test('table with every series, failing SLOs and the conformance line', () => {
    const t = renderConsole(ipt);
    expect(t).toContain('kube-sli · Kubernetes v1.34.1 · proxy iptables · kernel 6.18.0 · 2 nodes');
    expect(t.split('\n').filter((l) => l.startsWith('first_packet_latency_seconds'))).toHaveLength(5);
    expect(t).toMatch(/FAIL first_packet_latency_seconds\{source="capture",services="10000"\}: 1 of 2 thresholds failed/);
    expect(t).toContain('✗ not conformant: 2 SLOs failed (of 20)');
  });
  test('zero results', () => {
    expect(renderConsole(empty)).toBe('kube-sli: no SLO results\n');
  });
});

describe('markdown', () => {
  test('summary for a CI step / PR comment', () => {
    const md = renderMarkdown(ipt);
    expect(md).toMatch(/^### ❌ kube-sli: not conformant: 2 SLOs failed \(of 20\)/);
    expect(md).toContain('| SLI | source | scale point | samples | p50 | p90 | p99 | max | SLO | verdict |');
    expect(md).toContain('| first_packet_latency_seconds | capture | services=10000 | 2,000 | 17');
    expect(md).toContain("| throughput series | flows | Jain's index | p10/p50 | mean |");
    expect(md).toContain('<details><summary>Environment and workload</summary>');
    // Every table row has the header's number of cells (escaped pipes do not split cells).
    for (const line of md.split('\n').filter((l) => l.startsWith('| first_packet'))) {
      expect(line.replace(/\\\|/g, '').split('|').length).toBe(12);
    }
    expect(renderMarkdown(empty)).toBe('### kube-sli\n\nNo SLO results.\n');
  });

  test('conformance page states profile, every SLO with evidence, environment', () => {
    const md = renderConformanceMarkdown(passing());
    expect(md).toMatch(/^# kube-sli conformance: ✅ CONFORMANT/);
    expect(md).toContain('**Profile:** strict (version 1)');
    expect(md).toContain('## SLOs');
    expect(md).toContain('### Evidence');
    expect(md).toContain('## Environment');
    expect(md).toContain('| Proxy mode | nftables |');
    const slos = passing().series.length;
    expect(md.split('\n').filter((l) => l.startsWith('- ✅ **'))).toHaveLength(slos);
  });
});

describe('junit', () => {
  test('one testcase per series with SLI values as properties; failures for failed SLOs', () => {
    const xml = renderJUnit(ipt);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kube-sli" tests="20" failures="2"')).toBe(true);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(20);
    expect((xml.match(/<failure /g) ?? []).length).toBe(2);
    expect(xml).toContain('<property name="kube_sli.p50_seconds" value="');
    expect(xml).toContain('<property name="kube_sli.label.services" value="10000"/>');
    expect(xml).toContain('<property name="kube_sli.fairness.jain" value="');
    expect(xml).toContain('<property name="kube_sli.proxy_mode" value="iptables"/>');
    expect(xml).toContain('kube_sli.series" value="first_packet_latency_seconds{source=&quot;capture&quot;,services=&quot;10000&quot;}"');
    // Balanced tags.
    for (const tag of ['testsuites', 'testsuite', 'testcase', 'properties']) {
      expect((xml.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length).toBe((xml.match(new RegExp(`</${tag}>`, 'g')) ?? []).length);
    }
    expect(renderJUnit(empty)).toContain('<testsuites name="kube-sli" tests="0" failures="0"');
  });
});

describe('html', () => {
  test('self-contained: no external references, charting library and data inline, under 5 MB', () => {
    const html = renderHtml(ipt);
    expect(html.length).toBeLessThan(5 * 1024 * 1024);
    expect(html).toContain('<meta http-equiv="Content-Security-Policy" content="default-src \'none\';');
    expect(html).toContain('var uPlot=');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/url\(\s*['"]?https?:/i);
    expect(html).toContain('id="kube-sli-charts"');
    const charts = reportCharts(ipt);
    for (const c of charts) expect(html).toContain(`<div id="${c.id}"`);
    expect(charts.map((c) => c.group).sort()).toEqual(
      expect.arrayContaining(['quantiles', 'scale', 'throughput', 'fairness', 'distribution']),
    );
    for (const c of charts) {
      expect(c.series.length).toBeGreaterThan(0);
      for (const s of c.series) expect(s.points.length).toBeGreaterThan(0);
    }
  });

  test('page size does not grow with the sample count (summaries are plotted, not samples)', () => {
    const mk = (n: number) =>
      buildReport({
        kitVersion: '0.1.0',
        environment: ipt.environment,
        startedAt: new Date(0),
        endedAt: new Date(1),
        results: [{ sli: 'first_packet_latency_seconds', source: 'capture', samples: Array.from({ length: n }, (_, i) => 1e-5 + (i % 997) * 1e-7) }],
      });
    const small = renderHtml(mk(1000)).length;
    const large = renderHtml(mk(300_000)).length;
    expect(Math.abs(large - small) / small).toBeLessThan(0.05);
  });

  test('escapes text from the report', () => {
    const evil: ReportDocument = { ...passing(), workload: { note: '<script>alert(1)</script>' } };
    const html = renderHtml(evil);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
  });

  test('empty report still renders a page saying so, without chart code', () => {
    const html = renderHtml(empty);
    expect(html).toContain('No SLO results in this run.');
    expect(html).not.toContain('var uPlot=');
  });

  test('conformance page has no scripts', () => {
    const html = renderConformanceHtml(ipt);
    expect(html).toContain('NOT CONFORMANT — not conformant: 2 SLOs failed (of 20)');
    expect(html).not.toContain('<script');
  });
});

describe('comparison renderers', () => {
  test('text, markdown and HTML all carry the environment warning and the verdicts', () => {
    const c = compareReports(nft, ipt, { baseName: 'main.json', candidateName: 'pr.json' });
    const text = renderComparisonText(c);
    const md = renderComparisonMarkdown(c);
    const html = renderComparisonHtml(c);
    for (const out of [text, md, html]) {
      expect(out).toContain('WARNING: the runs come from different environments (proxyMode: nftables → iptables)');
      expect(out).toMatch(/REGRESSION|regression/);
    }
    expect(text).toMatch(/✗ REGRESSION: \d+ significant regressions beyond 5%/);
    expect(md).toContain('| SLI | source | scale point | stat | base | candidate | change | 95% CI of change | verdict |');
    expect(html).toContain('<tr class="regression">');
    expect(comparisonCharts(c).length).toBe(c.curves.length);
  });
});
