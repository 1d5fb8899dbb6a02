// The PR gate as a user runs it: the same SLO suite twice on one lab (`vitest run --project
// slo`, a reduced workload), then `kube-sli compare` on the two report.json files the
// suites wrote. compare must read them (exit 0 or 1, never 2 "invalid input") and print
// its table. Needs Linux + root.
//
// KUBE_SLI_RECORD_REPORTS=dir also copies the first report there: the fixture
// test/fixtures/report/slo-suite/ that a unit test validates without a lab.
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultLabId, labDown, labUp } from '../../src/lab/lab.js';
import { listNetns } from '../../src/netns/netns.js';
import { SLI } from '../../src/config/profiles.js';
import { readReport, type ReportDocument } from '../../src/report/index.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';
import { KUBE_SLI, runSloSuites } from './support/slo-run.js';

if (labSkipReason) console.warn(`compare-on-suite-reports test skipped: ${labSkipReason}`);

const SUITE = 'suites/connection-total-latency.slo.test.ts';
// CLIENTS × CONN_PER_CLIENT ≥ the default profile's minSamples (1000) for this SLI
const WORKLOAD = { SERVICES: '100', CLIENTS: '4', CONN_PER_CLIENT: '300' };

const dirs: string[] = [];
const labs: string[] = [];
afterAll(async () => {
  for (const d of labs) await labDown(d).catch((e: unknown) => console.error(`labDown ${d}: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const exists = (p: string) => stat(p).then(() => true, () => false);

describe.skipIf(!!labSkipReason)('kube-sli compare on reports the SLO suites wrote', () => {
  it('two runs of one suite on the lab compare cleanly (exit 0 or 1, table printed)', async () => {
    const stateDir = join(await tempDir('ksli-cmp-'), 'lab');
    labs.push(stateDir);
    const lab = await labUp({ stateDir, ports: await freeControlPlanePorts(), proxyMode: 'nftables' });

    const reports: string[] = [];
    const docs: ReportDocument[] = [];
    for (const run of ['a', 'b']) {
      const reportDir = await tempDir(`ksli-rep-${run}-`);
      const { exitCode, output } = await runSloSuites([SUITE], { KUBECONFIG: lab.kubeconfigPath, SLI_PROFILE: 'default', ...WORKLOAD }, reportDir, 10 * 60_000);
      const path = join(reportDir, 'report.json');
      expect(await exists(path), `run ${run} wrote no report (exit ${exitCode}):\n${output.slice(-3000)}`).toBe(true);
      // the suite's own verdict is not this test's subject, but a run that broke is
      expect([0, 1], output.slice(-3000)).toContain(exitCode);
      // the report is valid as written: readReport applies the schema compare applies
      const doc = await readReport(path);
      docs.push(doc);
      reports.push(path);
    }
    for (const doc of docs) {
      const judged = doc.series.find((s) => s.sli === SLI.totalLatency && s.verdict);
      expect(judged?.slo?.origin, 'the SLO carries its origin from the profile').toMatch(/connection_total_latency/);
    }

    const outDir = await tempDir('ksli-cmpout-');
    const cmp = await execa(process.execPath, [KUBE_SLI, 'compare', reports[0]!, reports[1]!, '--out-dir', outDir], { reject: false, all: true, timeout: 2 * 60_000 });
    const all = String(cmp.all ?? '');
    expect(all).not.toMatch(/does not match the kube-sli report schema/);
    expect([0, 1], all).toContain(cmp.exitCode);
    // the table: its header and a row for the judged series
    expect(String(cmp.stdout)).toMatch(/^SLI\s+source\s+scale point\s+stat\s+base\s+candidate\s+change/m);
    expect(String(cmp.stdout)).toMatch(new RegExp(`^${SLI.totalLatency}\\s+(capture|client)\\s`, 'm'));
    expect(await exists(join(outDir, 'compare.json'))).toBe(true);

    const record = process.env.KUBE_SLI_RECORD_REPORTS;
    if (record) {
      await mkdir(record, { recursive: true });
      await copyFile(reports[0]!, join(record, 'connection-total-latency.report.json'));
      console.log(`recorded ${join(record, 'connection-total-latency.report.json')} (${(await readFile(reports[0]!)).length} bytes)`);
    }

    await labDown(stateDir);
    labs.splice(labs.indexOf(stateDir), 1);
    expect(await exists(join(stateDir, 'lab.json'))).toBe(false);
    expect((await listNetns()).filter((n) => n.startsWith(`ksli-lab-${defaultLabId(stateDir)}-`))).toEqual([]);
  }, 25 * 60_000);
});
