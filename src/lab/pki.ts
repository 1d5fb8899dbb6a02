// The lab's PKI: one cluster CA, a front-proxy CA, a service-account key pair and the
// serving/client certificates the control plane needs (names and groups as kubeadm uses
// them, so the bootstrap RBAC policy of the real apiserver applies unchanged).
//
// Library: @peculiar/x509 on Node's WebCrypto. It is maintained (PeculiarVentures, the
// people behind pkijs/asn1-schema), typed, has no native code, and builds certificates
// with proper extensions (SAN with IP entries, EKU, AKI/SKI) from a WebCrypto key, so
// keys never leave Node's own crypto. node-forge would work too but only does RSA in
// pure JS (slow key generation) and is largely unmaintained; the openssl CLI would add a
// per-distro tool dependency and config-file juggling for SANs.
//
// Keys are ECDSA P-256 (fast to generate, accepted by every Kubernetes component and by
// etcd; service-account tokens are then ES256). Private keys are written as PKCS#8
// "PRIVATE KEY" PEM with mode 0600.
// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import ipaddr from 'ipaddr.js';

const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALG: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN_ALG: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export type CertUsage = 'client' | 'server' | 'both';

export interface CertSpec {
  /** file base name under the pki dir: <name>.crt / <name>.key */
  name: string;
  cn: string;
  /** Organization entries = Kubernetes groups for client certs */
  orgs?: readonly string[];
  usage: CertUsage;
  dnsNames?: readonly string[];
  ips?: readonly string[];
  /** which CA signs it (default "ca") */
  ca?: 'ca' | 'front-proxy-ca';
  validDays?: number;
}

export interface CertPair {
  cert: string;
  key: string;
}

export interface PkiOptions {
  /** service CIDR; its first address (e.g. 10.96.0.1) goes into the apiserver SANs */
  serviceCIDR: string;
  /** address the apiserver advertises (added to SANs) */
  advertiseAddress?: string;
  /** extra apiserver SANs (e.g. a lab-fabric address reachable from node namespaces) */
  extraSANs?: { dns?: readonly string[]; ips?: readonly string[] };
  clusterDomain?: string;
}

/** Paths of everything createPki writes (all under `dir`). */
export interface PkiFiles {
  dir: string;
  ca: CertPair;
  frontProxyCa: CertPair;
  apiserver: CertPair;
  apiserverKubeletClient: CertPair;
  apiserverEtcdClient: CertPair;
  frontProxyClient: CertPair;
  etcd: CertPair;
  admin: CertPair;
  controllerManager: CertPair;
  controllerManagerServing: CertPair;
  scheduler: CertPair;
  schedulerServing: CertPair;
  kubeProxy: CertPair;
  /** service-account signing key (private, PKCS#8) and its public key (SPKI) */
  saKey: string;
  saPub: string;
}

export function certPaths(dir: string, name: string): CertPair {
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** First usable address of a CIDR: 10.96.0.0/16 → 10.96.0.1 (the `kubernetes` Service IP). */
export function firstIP(cidr: string): string {
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  const bytes = addr.toByteArray();
  const total = bytes.length * 8;
  if (bits >= total) throw new Error(`CIDR ${cidr} has no room for a service IP`);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! + 1;
  return ipaddr.fromByteArray(bytes).toString();
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

function pemOf(label: string, der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, label) + '\n';
}

function derOf(pem: string): ArrayBuffer {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const buf = Buffer.from(b64, 'base64');
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

function subjectOf(cn: string, orgs: readonly string[] = []): x509.JsonName {
  // One RDN per attribute: CN first, then one O per group (as Kubernetes reads them).
  return [{ CN: [cn] }, ...orgs.map((o) => ({ O: [o] }))];
}

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
}

async function createCa(cn: string): Promise<Ca> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subjectOf(cn),
    notBefore: new Date(now - HOUR),
    notAfter: new Date(now + 3650 * DAY),
    signingAlgorithm: SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issue(ca: Ca, spec: CertSpec): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  const keys = await newKeys();
  const now = Date.now();
  const eku: string[] = [];
  if (spec.usage !== 'client') eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (spec.usage !== 'server') eku.push(x509.ExtendedKeyUsage.clientAuth);
  const sans: x509.JsonGeneralName[] = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  const cert = await x509.X509CertificateGenerator.create({
    subject: subjectOf(spec.cn, spec.orgs),
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - HOUR),
    notAfter: new Date(now + (spec.validDays ?? 365) * DAY),
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions,
  });
  return { cert, key: keys.privateKey };
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pemOf('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', key));
}

async function writePair(dir: string, name: string, cert: x509.X509Certificate, key: CryptoKey): Promise<CertPair> {
  const p = certPaths(dir, name);
  await writeAtomic(p.key, await exportKey(key), 0o600);
  await writeAtomic(p.cert, cert.toString('pem') + '\n', 0o644);
  return p;
}

async function loadCa(dir: string, name: 'ca' | 'front-proxy-ca'): Promise<Ca> {
  const p = certPaths(dir, name);
  const cert = new x509.X509Certificate(await readFile(p.cert, 'utf8'));
  const privateKey = await crypto.subtle.importKey('pkcs8', derOf(await readFile(p.key, 'utf8')), KEY_ALG, true, [
    'sign',
  ]);
  // @peculiar/x509 types this with the DOM's CryptoKey, which this tsconfig (no DOM lib) lacks
  const publicKey = (await cert.publicKey.export(KEY_ALG, ['verify'], crypto)) as CryptoKey;
  return { cert, keys: { privateKey, publicKey } };
}

/** Issues one more certificate from the lab CA already in `dir` (e.g. a node's
 * `system:node:<name>` / `system:nodes` client cert, or a kube-proxy per node). */
export async function issueCert(dir: string, spec: CertSpec): Promise<CertPair> {
  const ca = await loadCa(dir, spec.ca ?? 'ca');
  const { cert, key } = await issue(ca, spec);
  return writePair(dir, spec.name, cert, key);
}

/** The apiserver's SANs: loopback, the `kubernetes` Service IP and DNS names, extras. */
export function apiserverSANs(opts: PkiOptions): { dns: string[]; ips: string[] } {
  const domain = opts.clusterDomain ?? 'cluster.local';
  const dns = [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${domain}`,
    ...(opts.extraSANs?.dns ?? []),
  ];
  // the `kubernetes` Service has one ClusterIP per family of a dual-stack range list
  const ips = ['127.0.0.1', ...opts.serviceCIDR.split(',').map(firstIP), ...(opts.advertiseAddress ? [opts.advertiseAddress] : [])];
  ips.push(...(opts.extraSANs?.ips ?? []));
  return { dns: [...new Set(dns)], ips: [...new Set(ips)] };
}

/** Creates the whole PKI in `dir` (mode 0700). Overwrites what is there. */
export async function createPki(dir: string, opts: PkiOptions): Promise<PkiFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [ca, fpCa, saKeys] = await Promise.all([createCa('kube-sli-lab-ca'), createCa('kube-sli-lab-front-proxy-ca'), newKeys()]);
  await writePair(dir, 'ca', ca.cert, ca.keys.privateKey);
  await writePair(dir, 'front-proxy-ca', fpCa.cert, fpCa.keys.privateKey);
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  await writeAtomic(saKey, await exportKey(saKeys.privateKey), 0o600);
  await writeAtomic(saPub, pemOf('PUBLIC KEY', await crypto.subtle.exportKey('spki', saKeys.publicKey)), 0o644);

  const sans = apiserverSANs(opts);
  const loop = { dnsNames: ['localhost'], ips: ['127.0.0.1'] };
  const specs: Record<Exclude<keyof PkiFiles, 'dir' | 'ca' | 'frontProxyCa' | 'saKey' | 'saPub'>, CertSpec> = {
    apiserver: { name: 'apiserver', cn: 'kube-apiserver', usage: 'server', dnsNames: sans.dns, ips: sans.ips },
    apiserverKubeletClient: {
      name: 'apiserver-kubelet-client',
      cn: 'kube-apiserver-kubelet-client',
      orgs: ['system:masters'],
      usage: 'client',
    },
    apiserverEtcdClient: { name: 'apiserver-etcd-client', cn: 'kube-apiserver-etcd-client', usage: 'client' },
    frontProxyClient: { name: 'front-proxy-client', cn: 'front-proxy-client', usage: 'client', ca: 'front-proxy-ca' },
    // etcd uses one cert for its client and peer listeners; peers authenticate as clients too.
    etcd: { name: 'etcd', cn: 'kube-sli-lab-etcd', usage: 'both', ...loop },
    admin: { name: 'admin', cn: 'kubernetes-admin', orgs: ['system:masters'], usage: 'client' },
    controllerManager: { name: 'kube-controller-manager', cn: 'system:kube-controller-manager', usage: 'client' },
    controllerManagerServing: { name: 'kube-controller-manager-serving', cn: 'kube-controller-manager', usage: 'server', ...loop },
    scheduler: { name: 'kube-scheduler', cn: 'system:kube-scheduler', usage: 'client' },
    schedulerServing: { name: 'kube-scheduler-serving', cn: 'kube-scheduler', usage: 'server', ...loop },
    kubeProxy: { name: 'kube-proxy', cn: 'system:kube-proxy', usage: 'client' },
  };
  const entries = await Promise.all(
    Object.entries(specs).map(async ([k, spec]) => {
      const { cert, key } = await issue(spec.ca === 'front-proxy-ca' ? fpCa : ca, spec);
      return [k, await writePair(dir, spec.name, cert, key)] as const;
    }),
  );
  return {
    dir,
    ca: certPaths(dir, 'ca'),
    frontProxyCa: certPaths(dir, 'front-proxy-ca'),
    saKey,
    saPub,
    ...(Object.fromEntries(entries) as Record<keyof typeof specs, CertPair>),
  };
}
