// Run only by test/unit/report/infra-exit.test.ts, in a child vitest: a read through the API
// server's proxy toward an address where nothing listens (a real refused connection, tried
// again until its deadline), or an ordinary failed assertion.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { kubeClients } from '../../../../src/kube/clients.js';
import { proxyJson } from '../../../../src/kube/proxy.js';

test('a scale point whose prober cannot be read', async () => {
  if (process.env.FIXTURE_MODE !== 'infra') return;
  const dir = mkdtempSync(join(tmpdir(), 'ksli-infra-'));
  writeFileSync(
    join(dir, 'config'),
    `apiVersion: v1
kind: Config
current-context: c
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${process.env.CLOSED_PORT}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
`,
  );
  try {
    const clients = kubeClients(join(dir, 'config'));
    await proxyJson(clients, { kind: 'pod', namespace: 'ns', name: 'prober-0', port: 8090 }, '/probes/p1', { deadlineMs: 1500, timeoutMs: 500 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an assertion that fails', () => {
  if (process.env.FIXTURE_MODE !== 'fail') return;
  expect(1).toBe(2);
});
