import type { ReportDocument, SeriesRecord } from '../../src/report/types.js';
import { labelText } from '../format.js';

// JUnit XML with the SLI values as <properties>: one <testcase> per series, grouped in a
// <testsuite> per test file (per SLI when the series has no origin). A failed SLO is a
// <failure>; an inconclusive one too (type="inconclusive"), since it is not a pass.
// Values are in base units (seconds, bytes per second), named <statistic>_<unit>.

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // XML 1.0 forbids most control characters, even escaped.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

const num = (x: number | null) => (x === null ? 'null' : String(x));

function unitSuffix(s: SeriesRecord): string {
  return s.dimension === 'time' ? '_seconds' : s.dimension === 'throughput' ? '_bytes_per_second' : '';
}

function properties(s: SeriesRecord): Array<[string, string]> {
  const u = unitSuffix(s);
  const p: Array<[string, string]> = [
    ['kube_sli.series', s.id],
    ['kube_sli.sli', s.sli],
    ['kube_sli.source', s.source],
  ];
  for (const [k, v] of Object.entries(s.labels)) p.push([`kube_sli.label.${k}`, v]);
  p.push(
    ['kube_sli.samples', String(s.summary.count)],
    [`kube_sli.min${u}`, num(s.summary.min)],
    [`kube_sli.mean${u}`, num(s.summary.mean)],
    [`kube_sli.p50${u}`, num(s.summary.p50)],
    [`kube_sli.p90${u}`, num(s.summary.p90)],
    [`kube_sli.p99${u}`, num(s.summary.p99)],
    [`kube_sli.p999${u}`, num(s.summary.p999)],
    [`kube_sli.max${u}`, num(s.summary.max)],
  );
  if (s.fairness) {
    p.push(['kube_sli.fairness.jain', num(s.fairness.jain)], ['kube_sli.fairness.p10_p50', num(s.fairness.p10p50)]);
  }
  if (s.slo) p.push(['kube_sli.slo.thresholds', s.slo.thresholds.join(', ')], ['kube_sli.slo.min_samples', String(s.slo.minSamples)]);
  if (s.verdict) {
    p.push(['kube_sli.verdict', s.verdict.status]);
    s.verdict.thresholds.forEach((t, i) => {
      p.push([`kube_sli.threshold.${i}`, t.threshold], [`kube_sli.threshold.${i}.observed`, num(t.observed)], [`kube_sli.threshold.${i}.status`, t.status]);
      if (t.ci) p.push([`kube_sli.threshold.${i}.ci`, `${num(t.ci[0])},${num(t.ci[1])}`]);
    });
  }
  for (const [i, n] of (s.notes ?? []).entries()) p.push([`kube_sli.note.${i}`, `${n.kind}: ${n.text}`]);
  return p;
}

function testcase(s: SeriesRecord, classname: string): { xml: string; failed: boolean } {
  const name = s.origin ? `${s.origin.test} › ${s.sli} (${s.source}, ${labelText(s.labels)})` : `${s.sli} (${s.source}, ${labelText(s.labels)})`;
  const props = properties(s)
    .map(([k, v]) => `        <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`)
    .join('\n');
  let body = `      <properties>\n${props}\n      </properties>\n`;
  const failed = s.verdict !== undefined && s.verdict.status !== 'pass';
  if (failed && s.verdict) {
    const details = s.verdict.thresholds.map((t) => `${t.threshold}: ${t.status}: ${t.reason}`).join('\n');
    body += `      <failure type="${s.verdict.status}" message="${xmlEscape(s.verdict.reason)}">${xmlEscape(details)}</failure>\n`;
  }
  return { xml: `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(name)}" time="0">\n${body}    </testcase>`, failed };
}

/** JUnit XML for a report. With no series: a valid document with zero tests. */
export function renderJUnit(doc: ReportDocument): string {
  const groups = new Map<string, SeriesRecord[]>();
  for (const s of doc.series) {
    const k = s.origin?.file ?? `kube-sli.${s.sli}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const seconds = Math.max(0, (Date.parse(doc.endedAt) - Date.parse(doc.startedAt)) / 1000);
  const env: Array<[string, string]> = [
    ['kube_sli.kit_version', doc.kitVersion],
    ['kube_sli.kubernetes_version', doc.environment.kubernetesVersion ?? 'unknown'],
    ['kube_sli.proxy_mode', doc.environment.proxyMode ?? 'unknown'],
    ['kube_sli.kernel', doc.environment.kernel ?? 'unknown'],
    ['kube_sli.nodes', String(doc.environment.nodes.length)],
  ];
  if (doc.profile) env.push(['kube_sli.profile', doc.profile.name]);
  for (const [k, v] of Object.entries(doc.workload)) env.push([`kube_sli.workload.${k}`, String(v)]);
  const envXml = env.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`).join('\n');
  let total = 0;
  let failures = 0;
  const suites: string[] = [];
  for (const [name, series] of groups) {
    const cases = series.map((s) => testcase(s, s.origin ? s.origin.file : s.sli));
    const f = cases.filter((c) => c.failed).length;
    total += cases.length;
    failures += f;
    suites.push(
      `  <testsuite name="${xmlEscape(name)}" tests="${cases.length}" failures="${f}" errors="0" skipped="0" timestamp="${xmlEscape(doc.startedAt)}" time="0">\n` +
        `    <properties>\n${envXml}\n    </properties>\n${cases.map((c) => c.xml).join('\n')}\n  </testsuite>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="kube-sli" tests="${total}" failures="${failures}" errors="0" time="${seconds}">\n` +
    (suites.length > 0 ? `${suites.join('\n')}\n` : '') +
    `</testsuites>\n`
  );
}
