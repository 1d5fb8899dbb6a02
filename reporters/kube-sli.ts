import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { reportFromTestMeta, type TestMeta } from '../src/report/build.js';
import { reportTextToWrite } from '../src/report/schema.js';
import type { Environment, KubeSliMeta, ProfileInfo, ReportDocument, Workload } from '../src/report/types.js';
import { renderConformanceHtml, renderHtml } from './render/html.js';
import { renderJUnit } from './render/junit.js';
import { renderConformanceMarkdown, renderMarkdown } from './render/markdown.js';
import { renderConsole } from './render/text.js';
import { describeError, renderFailures, type ErrorLike, type FailedTest } from './render/failures.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { infrastructureCause } from '../src/infrastructure-error.js';

// The kube-sli vitest reporter. Suites attach their SLI results to the test's meta
// (src/report attachSliResults → task.meta.kubeSli: series already built and evaluated in
// the worker); at the end of the run this reporter hands them to src/report's builder and
// writes the chosen formats, report.json validated against its schema. No statistics
// here, no cluster calls.
//
//   // vitest.config.ts
//   reporters: ['default', ['./reporters/kube-sli.ts', { outDir: 'sli-report' }]]
//
// With no SLI results it prints "kube-sli: no SLO results" (console format) and writes
// nothing, so it can stay configured for unit runs.

export type KubeSliFormat = 'console' | 'json' | 'junit' | 'markdown' | 'html' | 'conformance';
export const ALL_FORMATS: readonly KubeSliFormat[] = ['console', 'json', 'junit', 'markdown', 'html', 'conformance'];

export interface KubeSliReporterOptions {
  /** Output directory; default sli-report. */
  outDir?: string;
  /** Default: all formats. */
  formats?: readonly KubeSliFormat[];
  /** Defaults for the run; values attached by tests win. */
  kitVersion?: string;
  environment?: Partial<Environment>;
  workload?: Workload;
  profile?: string | ProfileInfo;
  /**
   * Append the Markdown summary to this file; default $GITHUB_STEP_SUMMARY when set.
   * false turns it off.
   */
  stepSummary?: string | false;
  /** Where console output goes; default vitest's logger. */
  log?: (text: string) => void;
}

/** Files a format writes, relative to outDir. */
export const FORMAT_FILES: Record<Exclude<KubeSliFormat, 'console'>, string[]> = {
  json: ['report.json'],
  junit: ['junit.xml'],
  markdown: ['summary.md'],
  html: ['report.html'],
  conformance: ['conformance.md', 'conformance.html'],
};

async function ownVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface CollectInput {
  modules: ReadonlyArray<TestModule>;
  root: string;
  startedAt: Date;
  endedAt: Date;
  defaults: Pick<KubeSliReporterOptions, 'environment' | 'workload' | 'profile'> & { kitVersion: string };
}

/** The run's report document from the tests' kube-sli meta, by src/report's builder. */
export function collectReport(input: CollectInput): ReportDocument {
  const tests: TestMeta[] = [];
  for (const m of input.modules) {
    const file = relative(input.root, m.moduleId) || m.moduleId;
    for (const t of m.children.allTests()) {
      const meta = (t.meta() as { kubeSli?: KubeSliMeta }).kubeSli;
      if (meta !== undefined) tests.push({ meta, origin: { file, test: t.fullName } });
    }
  }
  return reportFromTestMeta(tests, { startedAt: input.startedAt, endedAt: input.endedAt, ...input.defaults });
}

/** A failed test, or an error of a file outside its tests (collection, hooks), with its errors. */
interface Failure {
  moduleId: string;
  test?: string;
  errors: ReadonlyArray<ErrorLike>;
}

/** The one walk over the run's results that both the failure digest and exit 3 read. */
function failures(modules: ReadonlyArray<TestModule>): Failure[] {
  const out: Failure[] = [];
  for (const m of modules) {
    for (const e of m.errors()) out.push({ moduleId: m.moduleId, errors: [e] });
    for (const t of m.children.allTests()) {
      const r = t.result();
      if (r.state === 'failed') out.push({ moduleId: m.moduleId, test: t.fullName, errors: r.errors ?? [] });
    }
  }
  return out;
}

/** Every failed test, and every file that failed outside its tests (collection, hooks). */
export function failedTests(modules: ReadonlyArray<TestModule>, root: string): FailedTest[] {
  return failures(modules).map((f) => ({ file: relative(root, f.moduleId) || f.moduleId, ...(f.test !== undefined ? { test: f.test } : {}), error: describeError(f.errors[0]) }));
}

/** Tests (or files, or the run) that ended on an InfrastructureError, with its message. */
export function infrastructureFailures(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown> = []): { where: string; message: string }[] {
  const out: { where: string; message: string }[] = [];
  for (const f of failures(modules)) {
    const c = f.errors.map((e) => infrastructureCause(e)).find((x) => x !== undefined);
    if (c) out.push({ where: f.test ?? f.moduleId, message: c.message });
  }
  for (const e of unhandled) {
    const c = infrastructureCause(e);
    if (c) out.push({ where: 'unhandled', message: c.message });
  }
  return out;
}

export class KubeSliReporter implements Reporter {
  protected vitest: Vitest | undefined;
  protected startedAt = new Date();
  /** The last collected document (for tests and subclasses). */
  lastReport: ReportDocument | undefined;
  /** Files written by the last run. */
  written: string[] = [];

  constructor(protected readonly options: KubeSliReporterOptions = {}) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    this.startedAt = new Date();
  }

  onTestRunStart(): void {
    this.startedAt = new Date();
  }

  protected log(text: string): void {
    if (this.options.log) this.options.log(text);
    else if (this.vitest) this.vitest.logger.log(text.replace(/\n$/, ''));
    else process.stdout.write(text);
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown> = []): Promise<void> {
    const infra = infrastructureFailures(modules, unhandled);
    const doc = collectReport({
      modules,
      root: this.vitest?.config.root ?? process.cwd(),
      startedAt: this.startedAt,
      endedAt: new Date(),
      defaults: {
        kitVersion: this.options.kitVersion ?? (await ownVersion()),
        environment: this.options.environment,
        workload: this.options.workload,
        profile: this.options.profile,
      },
    });
    await this.emit(doc);
    const failures = renderFailures(failedTests(modules, this.vitest?.config.root ?? process.cwd()));
    if (failures && (this.options.formats ?? ALL_FORMATS).includes('console')) this.log(failures);
    if (infra.length > 0) {
      // vitest has set 1 (a failed test) already; a run that could not measure is not a
      // breached SLO, and no verdict of the run outweighs that
      this.log(`kube-sli: infrastructure error, exit ${EXIT.infrastructure} (the run could not measure; not an SLO verdict):\n${infra.map((f) => `  ${f.where}: ${f.message}`).join('\n')}\n`);
      process.exitCode = EXIT.infrastructure;
    }
  }

  /** Write the configured formats for a document (also usable without vitest). */
  async emit(doc: ReportDocument): Promise<string[]> {
    this.lastReport = doc;
    this.written = [];
    const formats = this.options.formats ?? ALL_FORMATS;
    if (doc.series.length === 0) {
      if (formats.includes('console')) this.log('kube-sli: no SLO results\n');
      return this.written;
    }
    if (formats.includes('console')) this.log(renderConsole(doc));
    const outDir = this.options.outDir ?? 'sli-report';
    const outputs: Array<[string, () => string]> = [];
    if (formats.includes('json')) {
      // validated before anything is written: an invalid report fails the run here, not
      // later in kube-sli compare
      const json = reportTextToWrite(doc, join(outDir, 'report.json'));
      outputs.push(['report.json', () => json]);
    }
    if (formats.includes('junit')) outputs.push(['junit.xml', () => renderJUnit(doc)]);
    if (formats.includes('markdown')) outputs.push(['summary.md', () => renderMarkdown(doc)]);
    if (formats.includes('html')) outputs.push(['report.html', () => renderHtml(doc)]);
    if (formats.includes('conformance')) {
      outputs.push(['conformance.md', () => renderConformanceMarkdown(doc)], ['conformance.html', () => renderConformanceHtml(doc)]);
    }
    if (outputs.length > 0) await mkdir(outDir, { recursive: true });
    for (const [name, render] of outputs) {
      const path = join(outDir, name);
      await writeFile(path, render(), 'utf8');
      this.written.push(path);
    }
    const summary = this.options.stepSummary ?? process.env.GITHUB_STEP_SUMMARY;
    if (summary && formats.includes('markdown')) {
      await appendFile(summary, renderMarkdown(doc), 'utf8');
      this.written.push(summary);
    }
    if (this.written.length > 0 && formats.includes('console')) this.log(`kube-sli: wrote ${this.written.join(', ')}\n`);
    return this.written;
  }
}

export default KubeSliReporter;
