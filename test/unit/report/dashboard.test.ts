import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { AgentMetrics } from '../../../src/agent/metrics.js';

// dashboards/kube-sli.grafana.json: valid JSON, and every query uses only metrics the node
// agent exports (histograms through their _bucket/_sum/_count series).

const DASHBOARD = new URL('../../../dashboards/kube-sli.grafana.json', import.meta.url);

/** The metrics the agent exports (src/agent/metrics.ts), which the dashboard plots. */
const EXPORTED = {
  kube_sli_first_packet_latency_seconds: 'histogram',
  kube_sli_connection_total_latency_seconds: 'histogram',
  kube_sli_connection_throughput_bytes_per_second: 'histogram',
  kube_sli_flows_total: 'counter',
  kube_sli_events_lost_total: 'counter',
  kube_sli_collector_up: 'gauge',
  kube_sli_collector_restarts_total: 'counter',
  kube_sli_vip_syns_on_wire_total: 'counter',
} as const;

interface Target {
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
  datasource?: { uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
}

function seriesNames(): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of Object.entries(EXPORTED)) {
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return names;
}

const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
};
const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.filter((p) => p.type !== 'row');

describe('Grafana dashboard', () => {
  test('the metric list matches what the agent registers', async () => {
    const registered = (await new AgentMetrics().registry.getMetricsAsJSON()).map((m) => [m.name, m.type]);
    expect(Object.fromEntries(registered)).toEqual(EXPORTED);
  });

  test('is a dashboard with unique panel ids and a Prometheus datasource variable', () => {
    expect(dash.uid).toBe('kube-sli-agent');
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dash.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    for (const p of queries) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.gridPos.w, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });

  test('every panel queries only metrics the agent exports', () => {
    const known = seriesNames();
    for (const p of queries) {
      expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        const used = t.expr?.match(/\bkube_sli_[a-z0-9_]+/g) ?? [];
        expect(used.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const m of used) expect(known.has(m), `${p.title} uses ${m}`).toBe(true);
        // Histograms are only read through their series, never by the bare name.
        for (const [name, type] of Object.entries(EXPORTED)) {
          if (type === 'histogram') expect(t.expr, p.title).not.toMatch(new RegExp(`${name}(?![_a-z])`));
        }
      }
    }
    for (const v of dash.templating.list.filter((x) => x.definition)) {
      for (const m of v.definition?.match(/\bkube_sli_[a-z0-9_]+/g) ?? []) expect(known.has(m), `variable ${v.name}`).toBe(true);
    }
  });

  test('every exported metric is on the dashboard', () => {
    const text = queries.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')).join('\n');
    for (const name of Object.keys(EXPORTED)) expect(text, name).toContain(name);
  });

  test('PromQL is balanced', () => {
    for (const p of queries) {
      for (const t of p.targets ?? []) {
        const e = t.expr ?? '';
        for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']] as const) {
          expect(e.split(open).length, `${p.title}: ${e}`).toBe(e.split(close).length);
        }
      }
    }
  });
});
