// The agent as it runs in a cluster: a `kube-sli agent` process observing a node
// namespace, read over HTTP, stopped by SIGTERM without leaving its collectors behind.
import { execa, type ResultPromise } from 'execa';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent } from '../../src/agent/agent.js';
import { kernelSkip } from './support/skip.js';
import {
  createTopology,
  programServices,
  removeStaleTestNamespaces,
  runClient,
  startServer,
  type ServerProcess,
  type Topology,
} from './support/topology.js';

const BIN = fileURLToPath(new URL('../../bin/kube-sli.js', import.meta.url));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const childrenOf = async (pid: number): Promise<number[]> => {
  const r = await execa('pgrep', ['-P', String(pid)], { reject: false });
  return String(r.stdout).split('\n').filter(Boolean).map(Number);
};

describe.runIf(!kernelSkip)('kube-sli agent process', () => {
  let topo: Topology;
  let server: ServerProcess;
  let agent: ResultPromise;
  let url: string;

  beforeAll(async () => {
    await removeStaleTestNamespaces();
    topo = await createTopology();
    await programServices(topo, 'nftables', 10);
    server = await startServer(topo);
    agent = execa(process.execPath, [BIN, 'agent', '--netns', topo.node, '--service-cidr', topo.serviceCidr, '--listen', '127.0.0.1:0'], {
      reject: false,
      buffer: false,
    });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: agent.stdout! }).once('line', resolve);
      agent.once('exit', (code) => reject(new Error(`agent exited with ${code}`)));
    });
    url = (JSON.parse(first) as { listening: string }).listening;
  });

  afterAll(async () => {
    if (agent?.pid && alive(agent.pid)) agent.kill('SIGKILL');
    await server?.stop();
    await topo?.destroy();
  });

  it('serves metrics, flow records and status for real connections', async () => {
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok\n');
    await runClient(topo, { connections: 50 });
    const settled = (await (await fetch(`${url}/settle`, { method: 'POST' })).json()) as { settled: number };
    expect(settled.settled).toBe(50);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^kube_sli_flows_total\{source="conntrack"\} 50$/m);
    expect(metrics).toMatch(/^kube_sli_first_packet_latency_seconds_count\{source="capture"\} 50$/m);
    expect(metrics).toMatch(/^kube_sli_vip_syns_on_wire_total 50$/m);
    const res = await fetch(`${url}/flows?since=0`);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { source: string });
    expect(lines.filter((l) => l.source === 'capture')).toHaveLength(50);
    expect(res.headers.get('x-kube-sli-next')).toBe('100');
    const status = (await (await fetch(`${url}/status`)).json()) as { lossy: boolean };
    expect(status.lossy).toBe(false);
    expect((await fetch(`${url}/flows?since=-1`)).status).toBe(400);
  });

  it('stops its tcpdump and conntrack on SIGTERM', async () => {
    const pid = agent.pid!;
    const kids = await childrenOf(pid);
    expect(kids.length).toBeGreaterThanOrEqual(2);
    agent.kill('SIGTERM');
    const done = await agent;
    expect(done.exitCode).toBe(0);
    // children the agent reaped are gone at once; allow init a moment to reap any orphan
    await vi.waitFor(
      async () => {
        const left = kids.filter(alive);
        const ps = left.length ? String((await execa('ps', ['-o', 'pid,stat,args', '-p', left.join(',')], { reject: false })).stdout) : '';
        expect(left, ps).toEqual([]);
      },
      { timeout: 3_000, interval: 100 },
    );
  });
});

describe.runIf(!kernelSkip)('agent conntrack reader', () => {
  const saved = process.env.KUBE_SLI_CT_EVENTS_BIN;
  afterAll(() => {
    if (saved === undefined) delete process.env.KUBE_SLI_CT_EVENTS_BIN;
    else process.env.KUBE_SLI_CT_EVENTS_BIN = saved;
  });

  it('reads with kube-sli-ct-events, the Service CIDR filtered in the kernel', async () => {
    const agent = await startAgent({ serviceCidrs: ['10.96.0.0/12'], capture: false, listenPort: 0, log: () => undefined });
    try {
      expect(agent.status().conntrack).toMatchObject({ running: true, reader: 'kube-sli-ct-events', kernelFilter: ['10.96.0.0/12'] });
      expect(agent.status().conntrack?.fallbackReason).toBeUndefined();
    } finally {
      await agent.stop();
    }
  });

  it('falls back to conntrack -E when kube-sli-ct-events is unavailable, and says why', async () => {
    process.env.KUBE_SLI_CT_EVENTS_BIN = '/nonexistent/kube-sli-ct-events';
    const logged: string[] = [];
    const agent = await startAgent({ serviceCidrs: ['10.96.0.0/12'], capture: false, listenPort: 0, log: (l) => logged.push(l) });
    try {
      expect(agent.status().conntrack).toMatchObject({
        running: true,
        reader: 'conntrack',
        kernelFilter: [],
        fallbackReason: expect.stringMatching(/KUBE_SLI_CT_EVENTS_BIN=\/nonexistent\/kube-sli-ct-events is not an executable/),
      });
      expect(logged.join('\n')).toMatch(/falling back to conntrack -E/);
    } finally {
      await agent.stop();
    }
  });

  it('refuses to start when kube-sli-ct-events is required but unavailable', async () => {
    process.env.KUBE_SLI_CT_EVENTS_BIN = '/nonexistent/kube-sli-ct-events';
    await expect(
      startAgent({ serviceCidrs: ['10.96.0.0/12'], capture: false, conntrackReader: 'kube-sli-ct-events', listenPort: 0, log: () => undefined }),
    ).rejects.toThrow(/kube-sli-ct-events: KUBE_SLI_CT_EVENTS_BIN=\/nonexistent\/kube-sli-ct-events is not an executable file/);
  });
});

describe.runIf(!kernelSkip)('agent start-up errors name the cause', () => {
  it('a namespace that does not exist', async () => {
    await expect(
      startAgent({ netns: 'ksli-k-missing', serviceCidrs: ['10.96.0.0/12'], listenPort: 0, log: () => undefined }),
    ).rejects.toThrow(/ksli-k-missing/);
  });

  it('a listen port in use, leaving no collector behind', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    const before = await childrenOf(process.pid);
    try {
      await expect(
        startAgent({ serviceCidrs: ['10.96.0.0/12'], listenPort: port, log: () => undefined }),
      ).rejects.toThrow(new RegExp(`listen port ${port} is in use`));
      expect((await childrenOf(process.pid)).filter((p) => !before.includes(p) && alive(p))).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});
