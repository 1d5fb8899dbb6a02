import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiserverSANs, createPki, firstIP, issueCert, type PkiFiles } from '../../../src/lab/pki.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

async function cert(p: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(p));
}

describe('firstIP', () => {
  it('gives the first address of a CIDR (the kubernetes Service IP)', () => {
    expect(firstIP('10.96.0.0/16')).toBe('10.96.0.1');
    expect(firstIP('10.96.5.7/16')).toBe('10.96.0.1');
    expect(firstIP('172.20.0.0/12')).toBe('172.16.0.1');
    expect(firstIP('fd00:10:96::/108')).toBe('fd00:10:96::1');
  });
  it('rejects bad input', () => {
    expect(() => firstIP('10.96.0.0/32')).toThrow(/no room/);
    expect(() => firstIP('not-a-cidr')).toThrow();
  });
});

describe('createPki', () => {
  let dir: string;
  let pki: PkiFiles;
  let ca: X509Certificate;
  let fpCa: X509Certificate;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ksli-pki-'));
    pki = await createPki(join(dir, 'pki'), { serviceCIDR: '10.96.0.0/16', extraSANs: { ips: ['10.250.0.1'], dns: ['lab.local'] } });
    ca = await cert(pki.ca.cert);
    fpCa = await cert(pki.frontProxyCa.cert);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('makes self-signed CAs', () => {
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(fpCa.ca).toBe(true);
    expect(fpCa.subject).not.toBe(ca.subject);
  });

  it('signs every leaf with the right CA, and each key matches its cert', async () => {
    const leaves = Object.entries(pki).filter(([k]) => !['dir', 'ca', 'frontProxyCa', 'saKey', 'saPub'].includes(k));
    expect(leaves.length).toBe(11);
    for (const [name, pair] of leaves) {
      const p = pair as { cert: string; key: string };
      const c = await cert(p.cert);
      const issuer = name === 'frontProxyClient' ? fpCa : ca;
      const other = name === 'frontProxyClient' ? ca : fpCa;
      expect(c.ca, name).toBe(false);
      expect(c.checkIssued(issuer), name).toBe(true);
      expect(c.verify(issuer.publicKey), name).toBe(true);
      expect(c.verify(other.publicKey), name).toBe(false);
      expect(c.checkPrivateKey(createPrivateKey(await readFile(p.key))), name).toBe(true);
      expect((await stat(p.key)).mode & 0o777, name).toBe(0o600);
    }
  });

  it('gives the apiserver the loopback, Service-IP and DNS SANs', async () => {
    const c = await cert(pki.apiserver.cert);
    const san = c.subjectAltName ?? '';
    for (const want of [
      'IP Address:127.0.0.1',
      'IP Address:10.96.0.1',
      'IP Address:10.250.0.1',
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      'DNS:lab.local',
    ]) {
      expect(san).toContain(want);
    }
    expect(c.keyUsage).toEqual([SERVER_AUTH]);
    expect(c.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(c.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
  });

  it('puts users in CN and groups in O, as Kubernetes reads them', async () => {
    const want: [keyof PkiFiles, string, string[]][] = [
      ['admin', 'kubernetes-admin', ['system:masters']],
      ['controllerManager', 'system:kube-controller-manager', []],
      ['scheduler', 'system:kube-scheduler', []],
      ['kubeProxy', 'system:kube-proxy', []],
      ['apiserverKubeletClient', 'kube-apiserver-kubelet-client', ['system:masters']],
      ['frontProxyClient', 'front-proxy-client', []],
    ];
    for (const [k, cn, orgs] of want) {
      const c = await cert((pki[k] as { cert: string }).cert);
      const lines = c.subject.split('\n');
      expect(lines, k).toContain(`CN=${cn}`);
      expect(lines.filter((l) => l.startsWith('O=')), k).toEqual(orgs.map((o) => `O=${o}`));
      expect(c.keyUsage, k).toEqual([CLIENT_AUTH]);
    }
  });

  it('gives etcd one cert for server and peer-client use on loopback', async () => {
    const c = await cert(pki.etcd.cert);
    expect(c.keyUsage?.sort()).toEqual([SERVER_AUTH, CLIENT_AUTH].sort());
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('writes a service-account key pair that belongs together', async () => {
    const { createPublicKey } = await import('node:crypto');
    const priv = createPrivateKey(await readFile(pki.saKey));
    const pub = createPublicKey(await readFile(pki.saPub));
    expect(createPublicKey(priv).export({ format: 'pem', type: 'spki' })).toBe(pub.export({ format: 'pem', type: 'spki' }));
    expect((await stat(pki.saKey)).mode & 0o777).toBe(0o600);
  });

  it('issues more certs later from the CA on disk (e.g. a node identity)', async () => {
    const p = await issueCert(pki.dir, { name: 'node-a', cn: 'system:node:node-a', orgs: ['system:nodes'], usage: 'client' });
    const c = await cert(p.cert);
    expect(c.verify(ca.publicKey)).toBe(true);
    expect(c.subject.split('\n')).toEqual(['CN=system:node:node-a', 'O=system:nodes']);
  });

  it('apiserverSANs adds the advertise address and dedupes', () => {
    const s = apiserverSANs({ serviceCIDR: '10.96.0.0/16', advertiseAddress: '127.0.0.1' });
    expect(s.ips).toEqual(['127.0.0.1', '10.96.0.1']);
  });
});
