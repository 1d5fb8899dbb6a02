import type { TestModule } from 'vitest/node';
import { describe, expect, test } from 'vitest';
import { failedTests } from '../../../reporters/kube-sli.js';
import { describeError, firstLine, renderFailures } from '../../../reporters/render/failures.js';

/** A stand-in for vitest's TestModule with what failedTests reads. */
function fakeModule(file: string, tests: Array<{ name: string; error?: string }>, fileErrors: string[] = []): TestModule {
  return {
    moduleId: file,
    errors: () => fileErrors.map((message) => ({ message })),
    children: {
      *allTests() {
        for (const t of tests) yield { fullName: t.name, result: () => (t.error === undefined ? { state: 'passed' } : { state: 'failed', errors: [{ message: t.error }] }) };
      },
    },
  } as unknown as TestModule;
}

describe('the failed tests, repeated at the end of the run', () => {
  test('names each failed test with the first line of its error, colours removed', () => {
    const failed = failedTests(
      [
        fakeModule('/r/test/lab/ab.test.ts', [{ name: 'kube-sli ab > A/A flags nothing', error: '\u001b[31mexpected 1 to be +0\u001b[39m\n\n- Expected\n+ Received' }, { name: 'passes' }]),
        fakeModule('/r/test/lab/ok.test.ts', [{ name: 'fine' }]),
        fakeModule('/r/test/lab/broken.test.ts', [], ['Hook timed out in 1200000ms']),
      ],
      '/r',
    );
    expect(failed).toEqual([
      { file: 'test/lab/ab.test.ts', test: 'kube-sli ab > A/A flags nothing', error: 'expected 1 to be +0' },
      { file: 'test/lab/broken.test.ts', error: 'Hook timed out in 1200000ms' },
    ]);
    expect(renderFailures(failed)).toBe(
      'kube-sli: 2 failed tests:\n  ✗ test/lab/ab.test.ts > kube-sli ab > A/A flags nothing: expected 1 to be +0\n  ✗ test/lab/broken.test.ts: Hook timed out in 1200000ms\n',
    );
  });

  test('an assertion with a context message: the assertion, the telling context lines, the received value in full', () => {
    // the shapes vitest gives `expect(code, output.slice(-3000)).toBe(0)` and a toEqual whose
    // received array chai abbreviates (recorded from vitest 3)
    const tail = 's/lab/kubeconfigs/admin.kubeconfig\n  PASS a{x} n=3 [max<=0]\n  FAIL first_packet_latency_seconds{capture} n=400 p99=2 s [p(99)<1s]: 1 of 1 thresholds failed\nkube-sli ab: base round 1 failed: connection refused';
    expect(describeError({ message: `\u001b[31m${tail}: expected 1 to be +0 // Object.is equality\u001b[39m` })).toBe(
      [
        'expected 1 to be +0 // Object.is equality',
        'FAIL first_packet_latency_seconds{capture} n=400 p99=2 s [p(99)<1s]: 1 of 1 thresholds failed',
        'kube-sli ab: base round 1 failed: connection refused',
      ].join('\n      '),
    );
    expect(describeError({ message: 'ctx: expected [ Array(2) ] to deeply equal []', actual: '[\n  "x: a reason",\n  "y: another",\n]' })).toBe(
      'expected [ Array(2) ] to deeply equal []\n      received: [ "x: a reason", "y: another", ]',
    );
    // not an assertion: the first line, as before
    expect(describeError({ message: 'Hook timed out in 1200000ms\nIf this is a long-running hook…' })).toBe('Hook timed out in 1200000ms');
    expect(describeError(undefined)).toBe('no error message');
  });

  test('nothing failed, nothing printed; long errors are cut', () => {
    expect(renderFailures(failedTests([fakeModule('/r/a.ts', [{ name: 'fine' }])], '/r'))).toBe('');
    expect(firstLine('x'.repeat(400))).toBe(`${'x'.repeat(300)}…`);
    expect(firstLine(undefined)).toBe('no error message');
  });
});
