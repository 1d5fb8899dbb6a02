import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseReport, ReportFileError, reportTextToWrite } from './schema.js';
import type { ReportDocument } from './types.js';

// The only file I/O of src/report: reading and writing report documents and the rendered
// outputs beside them. Everything else in src/report is pure.

export const DEFAULT_REPORT_DIR = 'sli-report';
export const DEFAULT_REPORT_PATH = join(DEFAULT_REPORT_DIR, 'report.json');

/** Read, parse and validate a report; throws ReportFileError naming the file and the problem. */
export async function readReport(path: string): Promise<ReportDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file'
        : e.code === 'EISDIR'
          ? 'is a directory, expected a report file'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message;
    throw new ReportFileError(path, `cannot read the report: ${why}`);
  }
  return parseReport(text, path);
}

/** Write text atomically (temp file + rename), creating the directory. */
export async function writeTextFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

/**
 * Validate and write a report (pretty enough to diff: one series field per line would be
 * huge, so reservoirs stay on one line). Throws if the document does not match the schema.
 */
export async function writeReport(doc: ReportDocument, path: string = DEFAULT_REPORT_PATH): Promise<void> {
  await writeTextFile(path, reportTextToWrite(doc, path));
}

/**
 * Pairs of recorded reports in a directory: files named <name>.base.report.json and
 * <name>.candidate.report.json, or any two *.report.json sorted by name (a, b). Returns
 * [] when the directory does not exist.
 */
export async function findReportPairs(dir: string): Promise<Array<{ name: string; base: string; candidate: string }>> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.report.json')).sort();
  } catch {
    return [];
  }
  const pairs: Array<{ name: string; base: string; candidate: string }> = [];
  const used = new Set<string>();
  for (const f of files) {
    const m = /^(.*)\.base\.report\.json$/.exec(f);
    const cand = m ? `${m[1]}.candidate.report.json` : undefined;
    if (m && cand && files.includes(cand)) {
      pairs.push({ name: m[1] as string, base: join(dir, f), candidate: join(dir, cand) });
      used.add(f).add(cand);
    }
  }
  const rest = files.filter((f) => !used.has(f));
  for (let i = 0; i + 1 < rest.length; i += 2) {
    const a = rest[i] as string;
    const b = rest[i + 1] as string;
    pairs.push({ name: `${a} vs ${b}`, base: join(dir, a), candidate: join(dir, b) });
  }
  return pairs;
}
