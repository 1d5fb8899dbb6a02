// Runs bench/overhead-udp.run.ts against a cluster the way the slo project runs a suite
// (same global setup: cluster choice, access check, facts), for `npm run bench -- overhead`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // the repository, whichever directory the config is named from
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['bench/overhead-udp.run.ts'],
    globalSetup: ['fixtures/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 30 * 60_000,
    hookTimeout: 15 * 60_000,
    retry: 0,
  },
});
