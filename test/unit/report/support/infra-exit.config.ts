// A vitest run of one fixture file with the kube-sli reporter (test/unit/report/infra-exit.test.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../../..', import.meta.url)),
    include: ['test/unit/report/support/infra-exit.fixture.ts'],
    reporters: ['default', ['./reporters/kube-sli.ts', { outDir: process.env.SLI_REPORT_DIR }]],
  },
});
