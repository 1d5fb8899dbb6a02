// The last lines of a run: which tests failed and what each one's error says. A CI log is
// often read from its tail (or cut to it); vitest prints its failure details before the
// summary, so on a long run the name of a failed test can be cut off. This repeats each one,
// short, after everything else.
//
// An assertion with a context message (`expect(code, output.slice(-3000)).toBe(0)`) has a
// message that starts with that context, cut anywhere, and ends with the assertion
// ("…: expected 1 to be +0"). So the digest names the assertion, then the context lines
// that carry a verdict or an error, and the received value when the message abbreviates it.

export interface FailedTest {
  file: string;
  /** the test's full name; absent for an error of the file itself (collection, hooks) */
  test?: string;
  error: string;
}

/** What the digest reads of an error (vitest's serialized TestError). */
export interface ErrorLike {
  message?: string;
  /** the received value of an assertion, as vitest serializes it (a string) */
  actual?: unknown;
}

/** At most this many characters of each line of the digest. */
const LINE_CHARS = 300;
/** At most this many context lines per error. */
const CONTEXT_LINES = 4;

// ANSI colour codes that vitest keeps in error messages
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
// vitest/chai's assertion sentence, at the end of a message with context
const ASSERTION = /(?:^|: )(expected .* (?:to|not to) .*)$/;
// how chai abbreviates a long received value in the sentence
const ABBREVIATED = /…|\b(?:Array|Object)\(\d+\)/;
// lines of a kube-sli run that say why it did not pass
const TELLING = /^\s*(?:FAIL|INCONCLUSIVE)\s|^\s*✗ |\b(?:Error|error|refused|failed|timed out)\b/;

const cut = (s: string): string => (s.length > LINE_CHARS ? `${s.slice(0, LINE_CHARS)}…` : s);

export function firstLine(message: string | undefined): string {
  const line = (message ?? 'no error message').replace(ANSI, '').split('\n').find((l) => l.trim() !== '') ?? 'no error message';
  return cut(line.trim());
}

/** One error, as the digest shows it: the assertion (or the first line), then its context. */
export function describeError(e: ErrorLike | undefined): string {
  const lines = (e?.message ?? '').replace(ANSI, '').split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  if (!lines.length) return 'no error message';
  // the assertion sentence is on the message's last line when a context message precedes it
  const last = lines[lines.length - 1]!;
  const m = ASSERTION.exec(last);
  if (!m) return firstLine(lines.join('\n'));
  const out = [cut(m[1]!.trim())];
  // an abbreviated received value ("expected [ Array(2) ] to deeply equal []"): show it in full
  const actual = typeof e?.actual === 'string' ? e.actual : e?.actual === undefined ? undefined : JSON.stringify(e.actual);
  if (ABBREVIATED.test(m[1]!) && actual !== undefined) out.push(`received: ${cut(actual.replace(/\s+/g, ' '))}`);
  // the context's own last line shares the message's last line with the assertion
  const context = [...lines.slice(0, -1), last.slice(0, m.index)].filter((l) => TELLING.test(l)).slice(-CONTEXT_LINES);
  for (const l of context) out.push(cut(l.trim()));
  return out.join('\n      ');
}

/** Empty when nothing failed. */
export function renderFailures(failed: readonly FailedTest[]): string {
  if (!failed.length) return '';
  const lines = failed.map((f) => `  ✗ ${f.file}${f.test ? ` > ${f.test}` : ''}: ${f.error}`);
  return `kube-sli: ${failed.length} failed ${failed.length === 1 ? 'test' : 'tests'}:\n${lines.join('\n')}\n`;
}
