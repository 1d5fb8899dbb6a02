// Upstream's own end-to-end tests against the lab: the `e2e.test` the lab builds from the
// pinned release (lab/k8s/e2e: upstream's network and common suites, upstream's runner),
// focused on [sig-network] [Conformance] tests. Used by the lab test in CI (a focused
// subset) and by `npm run bench -- conformance` (every such test).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** The CI subset: Services, EndpointSlices, DNS-free pod networking, hostPort (portmap).
 * Each string is part of an upstream test name (unique within [sig-network]
 * [Conformance]). The NodePort conformance tests all reach their Service by DNS name
 * (CONFORMANCE_NEED_DNS), so none can be in it. */
export const CONFORMANCE_CI_SUBSET = [
  'should provide secure master service',
  'should serve endpoints on same port and different protocols',
  'should support a Service with multiple ports specified in multiple EndpointSlices',
  'validates that there is no conflict between pods with same hostPort but different hostIP and protocol',
  'should find a service from listing all namespaces',
  'should have Endpoints and EndpointSlices pointing to API Server',
  'should create Endpoints and EndpointSlices for Pods matching a Service',
  'should support creating EndpointSlice API operations',
  'should function for intra-pod communication: http',
  'should function for intra-pod communication: udp',
  'should function for node-pod communication: http',
] as const;

/** Tests that need what the lab deliberately has not: a cluster DNS (the lab runs no
 * CoreDNS, and no query may leave the lab). The README explains each exclusion. */
export const CONFORMANCE_EXCLUDED: readonly { pattern: string; why: string }[] = [
  { pattern: 'DNS', why: 'needs a cluster DNS (CoreDNS); the lab runs none' },
  { pattern: 'ExternalName', why: 'an ExternalName Service is a DNS CNAME; no cluster DNS in the lab' },
];

/** Tests that run but fail in the lab for the same reason: they reach a Service by its DNS
 * name ("service is not reachable … on endpoint <name>:80"). Measured on the lab; the
 * README lists them. */
export const CONFORMANCE_NEED_DNS = [
  'should serve a basic endpoint from pods',
  'should serve multiport endpoints from pods',
  'should be able to create a functioning NodePort service',
  'should have session affinity work for service with type clusterIP',
  'should have session affinity work for NodePort service',
] as const;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function focusRegex(names: readonly string[]): string {
  return `\\[sig-network\\].*(${names.map(escape).join('|')}).*\\[Conformance\\]`;
}

export interface ConformanceResult {
  passed: string[];
  failed: { name: string; message: string }[];
  skipped: string[];
  seconds: number;
  junit: string;
}

/** Parses ginkgo's JUnit report: each <testcase> with its <failure>/<skipped> child. */
export function parseJunit(xml: string): Omit<ConformanceResult, 'seconds' | 'junit'> {
  const out: Omit<ConformanceResult, 'seconds' | 'junit'> = { passed: [], failed: [], skipped: [] };
  const unescape = (s: string): string => s.replace(/&#34;|&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const name = unescape(/\bname="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '');
    const status = /\bstatus="([^"]*)"/.exec(m[1] ?? '')?.[1];
    const body = m[3] ?? '';
    // ginkgo reports its suite-level nodes as test cases too
    if (/^\[(SynchronizedBeforeSuite|SynchronizedAfterSuite|BeforeSuite|AfterSuite|ReportAfterSuite|ReportBeforeSuite|DeferCleanup)/.test(name)) {
      if (/<failure|<error/.test(body)) out.failed.push({ name, message: unescape(/message="([^"]*)"/.exec(body)?.[1] ?? 'failed') });
      continue;
    }
    if (status === 'skipped' || /<skipped/.test(body)) out.skipped.push(name);
    else if (/<failure|<error/.test(body) || status === 'failed' || status === 'panicked' || status === 'timedout') out.failed.push({ name, message: unescape(/message="([^"]*)"/.exec(body)?.[1] ?? status ?? 'failed') });
    else out.passed.push(name);
  }
  return out;
}

export async function runConformance(o: { e2eTest: string; kubeconfig: string; focus: string; skip?: string; timeoutMinutes?: number; onLine?: (l: string) => void }): Promise<ConformanceResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ksli-e2e-'));
  const junit = join(dir, 'junit.xml');
  const t0 = Date.now();
  try {
    const skip = o.skip ?? `\\[Serial\\]|\\[Disruptive\\]|\\[Flaky\\]|${CONFORMANCE_EXCLUDED.map((e) => escape(e.pattern)).join('|')}`;
    const p = execa(
      o.e2eTest,
      [
        `--kubeconfig=${o.kubeconfig}`,
        '--provider=skeleton',
        `--ginkgo.focus=${o.focus}`,
        `--ginkgo.skip=${skip}`,
        '--ginkgo.no-color',
        `--ginkgo.junit-report=${junit}`,
        `--ginkgo.timeout=${o.timeoutMinutes ?? 30}m`,
        `--report-dir=${dir}`,
        `-test.timeout=${(o.timeoutMinutes ?? 30) + 5}m`,
      ],
      { reject: false, all: true, cwd: dir },
    );
    p.all?.on('data', (b: Buffer) => {
      for (const l of b.toString().split('\n')) if (/^(•|\[FAIL\]|\[PANICKED\]|Ran \d+|FAIL!|SUCCESS!)/.test(l.trim())) o.onLine?.(l.trim());
    });
    const r = await p;
    const xml = await readFile(junit, 'utf8').catch(() => '');
    if (!xml) throw new Error(`e2e.test wrote no JUnit report (exit ${r.exitCode}):\n${String(r.all).split('\n').slice(-30).join('\n')}`);
    return { ...parseJunit(xml), seconds: (Date.now() - t0) / 1000, junit: xml };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
