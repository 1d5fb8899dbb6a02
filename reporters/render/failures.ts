// The last lines of a run: which tests failed and the first line of each one's error. A CI
// log is often read from its tail (or cut to it); vitest prints its failure details before
// the summary, so on a long run the name of a failed test can be cut off. This repeats each
// one, short, after everything else.

export interface FailedTest {
  file: string;
  /** the test's full name; absent for an error of the file itself (collection, hooks) */
  test?: string;
  error: string;
}

/** At most this many characters of each error's first line. */
const ERROR_CHARS = 300;

// ANSI colour codes that vitest keeps in error messages
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export function firstLine(message: string | undefined): string {
  const line = (message ?? 'no error message').replace(ANSI, '').split('\n').find((l) => l.trim() !== '') ?? 'no error message';
  const t = line.trim();
  return t.length > ERROR_CHARS ? `${t.slice(0, ERROR_CHARS)}…` : t;
}

/** Empty when nothing failed. */
export function renderFailures(failed: readonly FailedTest[]): string {
  if (!failed.length) return '';
  const lines = failed.map((f) => `  ✗ ${f.file}${f.test ? ` > ${f.test}` : ''}: ${f.error}`);
  return `kube-sli: ${failed.length} failed ${failed.length === 1 ? 'test' : 'tests'}:\n${lines.join('\n')}\n`;
}
