// Probes run from a node's namespace, as the kubelet probes from its node: one helper
// process per node (`ip netns exec <node> node -e …`) takes probe requests over IPC and
// answers each. It exits when this process goes away (IPC disconnect).
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProbeRequest {
  kind: 'http' | 'tcp';
  host: string;
  port: number;
  path?: string;
  scheme?: 'HTTP' | 'HTTPS';
  headers?: Record<string, string>;
  timeoutMs: number;
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

const WORKER = `
const net = require('node:net');
const http = require('node:http');
const https = require('node:https');
process.on('message', (m) => {
  const { id, req } = m;
  let done = false;
  const reply = (ok, detail) => { if (done) return; done = true; try { process.send({ id, ok, detail }); } catch {} };
  if (req.kind === 'tcp') {
    const s = net.connect({ host: req.host, port: req.port });
    s.setTimeout(req.timeoutMs, () => { s.destroy(); reply(false, 'timeout'); });
    s.once('connect', () => { s.destroy(); reply(true, 'connected'); });
    s.once('error', (e) => reply(false, e.code || e.message));
    return;
  }
  const mod = req.scheme === 'HTTPS' ? https : http;
  const r = mod.request({ host: req.host, port: req.port, path: req.path || '/', method: 'GET', headers: { 'User-Agent': 'kube-probe/lab', ...(req.headers || {}) }, timeout: req.timeoutMs, rejectUnauthorized: false, agent: false }, (res) => {
    res.resume();
    const c = res.statusCode || 0;
    reply(c >= 200 && c < 400, 'HTTP ' + c);
  });
  r.on('timeout', () => { r.destroy(); reply(false, 'timeout'); });
  r.on('error', (e) => reply(false, e.code || e.message));
  r.end();
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`;

export class NodeProber {
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private seq = 0;
  private pending = new Map<number, (r: ProbeResult) => void>();
  private closed = false;

  constructor(readonly netns: string) {}

  /** PID of the helper, when running */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): Promise<ChildProcess> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return Promise.resolve(this.child);
    this.starting ??= new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.netns, process.execPath, '-e', WORKER], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`prober in ${this.netns} did not start`));
      }, 10_000);
      child.on('message', (m: { ready?: boolean; id?: number; ok?: boolean; detail?: string }) => {
        if (m.ready) {
          clearTimeout(timer);
          this.child = child;
          resolve(child);
          return;
        }
        const cb = m.id === undefined ? undefined : this.pending.get(m.id);
        if (cb && m.id !== undefined) {
          this.pending.delete(m.id);
          cb({ ok: m.ok === true, detail: m.detail ?? '' });
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`prober in ${this.netns} exited (${code ?? 'signal'}): ${stderr.trim()}`));
        if (this.child === child) this.child = undefined;
        for (const [, cb] of this.pending) cb({ ok: false, detail: 'prober exited' });
        this.pending.clear();
      });
    }).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async probe(req: ProbeRequest): Promise<ProbeResult> {
    if (this.closed) return { ok: false, detail: 'prober closed' };
    let child: ChildProcess;
    try {
      child = await this.start();
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
    const id = ++this.seq;
    return new Promise<ProbeResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, detail: 'timeout' });
      }, req.timeoutMs + 2_000);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      try {
        child.send({ id, req });
      } catch (e) {
        this.pending.delete(id);
        clearTimeout(timer);
        resolve({ ok: false, detail: (e as Error).message });
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child ?? (await this.starting?.catch(() => undefined));
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.disconnect();
    const t = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(t);
  }
}
