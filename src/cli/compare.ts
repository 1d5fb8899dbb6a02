import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  renderComparisonHtml,
  renderComparisonMarkdown,
  renderComparisonText,
} from '../../reporters/render/index.js';
import { compareReports, DEFAULT_TOLERANCE, parseMinChange, parseTolerance } from '../report/compare.js';
import { readReport, writeTextFile } from '../report/io.js';
import { ReportFileError } from '../report/schema.js';
import type { ComparisonDocument, ReportDocument } from '../report/types.js';
import { EXIT } from './exit-codes.js';

// kube-sli compare base.json candidate.json — the PR gate: baseline run on main, candidate
// run on the PR. Prints the side-by-side table, writes compare.md / compare.html /
// compare.json, and exits 0 (no regression), 1 (regression beyond the tolerance) or
// 2 (invalid input or usage).

// the shared codes of every kube-sli command (exit-codes.ts)
export const EXIT_OK = EXIT.ok;
export const EXIT_REGRESSION = EXIT.breached;
export const EXIT_INVALID = EXIT.invalidConfig;

export const COMPARE_USAGE = `usage: kube-sli compare <base.json> <candidate.json> [options]

Compares two kube-sli reports series by series (bootstrap CI of the difference of p50 and
p99; p10, mean and Jain's index for throughput) and fails on a significant regression.

options:
  --tolerance <p>    relative worsening tolerated before a significant change fails
                     (10% or 0.1; default ${DEFAULT_TOLERANCE * 100}%)
  --min-change <v>   absolute change a series must exceed to count, per dimension
                     (repeatable: --min-change 5us --min-change 1MB/s; default 2us for
                     times, the resolution of conntrack's timestamps)
  --confidence <c>   confidence level of the intervals (default 0.95)
  --out-dir <dir>    where compare.md, compare.html and compare.json go
                     (default sli-report/compare; "-" writes nothing)
  --format <f>       what goes to stdout: text (default), markdown or json
  -h, --help         this text

exit codes: 0 no regression, 1 regression, 2 invalid input or usage, 3 other errors`;

export interface CompareIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: CompareIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Run `kube-sli compare` with argv after the subcommand; returns the exit code. */
export async function compareCommand(argv: string[], io: CompareIo = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        tolerance: { type: 'string' },
        'min-change': { type: 'string', multiple: true },
        confidence: { type: 'string' },
        'out-dir': { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr(`kube-sli compare: ${(err as Error).message}\n\n${COMPARE_USAGE}\n`);
    return EXIT_INVALID;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${COMPARE_USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length !== 2) {
    io.stderr(`kube-sli compare: expected 2 report files (base, candidate), got ${positionals.length}\n\n${COMPARE_USAGE}\n`);
    return EXIT_INVALID;
  }
  const format = values.format ?? 'text';
  if (!['text', 'markdown', 'json'].includes(format)) {
    io.stderr(`kube-sli compare: --format must be text, markdown or json, got "${format}"\n`);
    return EXIT_INVALID;
  }
  let tolerance = DEFAULT_TOLERANCE;
  let confidence = 0.95;
  const minChange: Partial<Record<string, number>> = {};
  try {
    if (values.tolerance !== undefined) tolerance = parseTolerance(values.tolerance);
    for (const v of values['min-change'] ?? []) {
      const { dimension, value } = parseMinChange(v);
      minChange[dimension] = value;
    }
    if (values.confidence !== undefined) {
      confidence = Number(values.confidence);
      if (!(confidence > 0 && confidence < 1)) throw new RangeError(`--confidence must be in (0, 1), got "${values.confidence}"`);
    }
  } catch (err) {
    io.stderr(`kube-sli compare: ${(err as Error).message}\n`);
    return EXIT_INVALID;
  }

  const [basePath, candPath] = positionals as [string, string];
  const docs: ReportDocument[] = [];
  let bad = false;
  for (const p of [basePath, candPath]) {
    try {
      docs.push(await readReport(p));
    } catch (err) {
      if (!(err instanceof ReportFileError)) throw err;
      io.stderr(`kube-sli compare: ${err.message}\n`);
      bad = true;
    }
  }
  if (bad) return EXIT_INVALID;
  const [base, cand] = docs as [ReportDocument, ReportDocument];

  const cmp: ComparisonDocument = compareReports(base, cand, {
    tolerance,
    minChange,
    confidence,
    baseName: basePath,
    candidateName: candPath,
  });

  const outDir = values['out-dir'] ?? join('sli-report', 'compare');
  if (outDir !== '-') {
    await writeTextFile(join(outDir, 'compare.md'), renderComparisonMarkdown(cmp));
    await writeTextFile(join(outDir, 'compare.html'), renderComparisonHtml(cmp));
    await writeTextFile(join(outDir, 'compare.json'), `${JSON.stringify(cmp, null, 2)}\n`);
  }
  if (format === 'json') io.stdout(`${JSON.stringify(cmp, null, 2)}\n`);
  else if (format === 'markdown') io.stdout(renderComparisonMarkdown(cmp));
  else io.stdout(renderComparisonText(cmp));
  // Warnings also on stderr, so they show even when stdout is piped into a file.
  for (const w of cmp.warnings) io.stderr(`${w}\n`);
  if (outDir !== '-' && format === 'text') io.stdout(`wrote ${join(outDir, 'compare.md')}, ${join(outDir, 'compare.html')}, ${join(outDir, 'compare.json')}\n`);

  if (cmp.rows.length === 0) {
    io.stderr(`kube-sli compare: ${basePath} and ${candPath} have no SLI series in common; nothing was compared\n`);
    return EXIT_INVALID;
  }
  return cmp.outcome === 'regression' ? EXIT_REGRESSION : EXIT_OK;
}
