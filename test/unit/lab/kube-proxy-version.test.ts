// Your own kube-proxy in the lab, without a lab: version parsing, the build plan for a
// release from the Go module proxy, the config dialect per version (checked against what
// the real binaries write with --write-config-to), flag and gate checks against a real
// --help, and what kube-proxy's /metrics says about itself. All inputs are recorded real
// output (test/fixtures/kube-proxy/).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseLabArgs } from '../../../src/cli/lab-command.js';
import { UsageError } from '../../../src/cli/exit-codes.js';
import { planKubeProxyBuild, releaseToolchain, stagingModules, KubeProxyBuildError } from '../../../src/lab/kube-proxy-build.js';
import { gatesFromHelp } from '../../../src/lab/kube-proxy-choice.js';
import { checkedDialect, kubeProxyConfig } from '../../../src/lab/kube-proxy.js';
import {
  featureGatesFromArgs,
  flagName,
  flagsFromHelp,
  isFlagArg,
  kubeProxyDialect,
  parseGitVersion,
  parseReleaseVersion,
  versionFromVersionOutput,
  KubeProxyVersionError,
  type KubeVersion,
} from '../../../src/lab/kube-proxy-version.js';
import { describeGates, kubeProxyInfo } from '../../../src/kube/kube-proxy-info.js';
import { parseMetrics } from '../../../src/kube/prom-text.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'kube-proxy');
const fixture = (f: string) => readFile(join(FIX, f), 'utf8');
const v = (s: string): KubeVersion => parseGitVersion(s)!;

describe('kube-proxy versions', () => {
  it('a release version is v1.<minor>.<patch> and nothing else', () => {
    expect(parseReleaseVersion('v1.27.16')).toEqual({ major: 1, minor: 27, patch: 16, text: 'v1.27.16' });
    for (const bad of ['1.27.16', 'v1.27', 'v1.27.16-rc.1', 'v2.0.0', 'v1.27.x', './kube-proxy', '']) expect(parseReleaseVersion(bad), bad).toBeUndefined();
  });
  it('a developer build reports a pre-release gitVersion', () => {
    expect(parseGitVersion('v1.36.0-alpha.0.1234+0123abcd')).toMatchObject({ major: 1, minor: 36, patch: 0 });
    expect(parseGitVersion('v1.34.4-dirty')).toMatchObject({ minor: 34 });
    expect(parseGitVersion('Kubernetes v1.34.4')).toBeUndefined();
  });
  it('reads `kube-proxy --version` output', () => {
    expect(versionFromVersionOutput('Kubernetes v1.27.16\n')?.text).toBe('v1.27.16');
    expect(versionFromVersionOutput('Kubernetes v1.36.0-alpha.0.5+abc')?.minor).toBe(36);
    expect(versionFromVersionOutput('kube-proxy version 1.2')).toBeUndefined();
    expect(versionFromVersionOutput('')).toBeUndefined();
  });
});

describe('build plan for a release from the Go module proxy', () => {
  it('replaces every staging module of v1.27.16 with its published tag and keeps upstream requires', async () => {
    const goMod = await fixture('k8s.io-kubernetes-v1.27.16.go.mod');
    const staging = stagingModules(goMod);
    expect(staging).toContain('k8s.io/kube-proxy');
    expect(staging).toContain('k8s.io/client-go');
    expect(staging).toContain('k8s.io/component-base');
    expect(staging.length).toBeGreaterThan(20);
    expect(staging.every((m) => m.startsWith('k8s.io/'))).toBe(true);

    const plan = planKubeProxyBuild({ version: v('v1.27.16'), upstreamGoMod: goMod, goVersionFile: '1.22.5\n', commit: 'cbb86e0d7f4a049666fac0551e8b02ef3d6c3d9a', buildDate: '2024-07-17T01:44:24Z', cacheRoot: '/c' });
    expect(plan.binary).toBe('/c/bin/kube-proxy-v1.27.16/kube-proxy');
    expect(plan.buildDir).toBe('/c/build/kube-proxy-v1.27.16');
    expect(plan.toolchain).toBe('go1.22.5');
    expect(plan.env).toMatchObject({ GOTOOLCHAIN: 'go1.22.5', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' });
    expect(plan.goMod).toMatch(/^module kube-sli\/kube-proxy-build$/m);
    expect(plan.goMod).toMatch(/^go 1\.20$/m);
    expect(plan.goMod).toMatch(/^require k8s\.io\/kubernetes v1\.27\.16$/m);
    for (const m of staging) expect(plan.goMod).toContain(`\t${m} => ${m} v0.27.16\n`);
    // no placeholder left, no local staging path
    expect(plan.goMod).not.toMatch(/ v0\.0\.0$/m);
    expect(plan.goMod).not.toContain('./staging');
    // a third-party requirement of the release, at the release's version
    const upstreamPin = /^\s+(github\.com\/google\/go-cmp) (v\S+)$/m.exec(goMod)!;
    expect(plan.goMod).toContain(`${upstreamPin[1]} ${upstreamPin[2]}`);
    expect(plan.buildArgs.at(-1)).toBe('k8s.io/kubernetes/cmd/kube-proxy');
    expect(plan.buildArgs).toContain(`${plan.binary}.tmp`);
    const ld = plan.buildArgs[plan.buildArgs.indexOf('-ldflags') + 1]!;
    expect(ld).toContain('-X k8s.io/component-base/version.gitVersion=v1.27.16');
    expect(ld).toContain('-X k8s.io/component-base/version.gitMinor=27');
    expect(ld).toContain('-X k8s.io/component-base/version.gitCommit=cbb86e0d7f4a049666fac0551e8b02ef3d6c3d9a');
    expect(ld).toContain('-X k8s.io/client-go/pkg/version.gitVersion=v1.27.16');
  });
  it('toolchain: .go-version, else a toolchain line, else auto', () => {
    expect(releaseToolchain('go 1.24.0\n', '1.24.13\n')).toBe('go1.24.13');
    expect(releaseToolchain('go 1.24.0\ntoolchain go1.24.4\n')).toBe('go1.24.4');
    expect(releaseToolchain('go 1.20\n')).toBe('auto');
    expect(releaseToolchain('go 1.20\n', 'garbage')).toBe('auto');
  });
  it('a go.mod without staging replaces is not a Kubernetes release', () => {
    expect(() => planKubeProxyBuild({ version: v('v1.27.16'), upstreamGoMod: 'module x\n\ngo 1.20\n', cacheRoot: '/c' })).toThrow(KubeProxyBuildError);
  });
});

/** Every key path of an object (arrays are leaves). */
function paths(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [prefix];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, x]) => paths(x, prefix ? `${prefix}.${k}` : k));
}

describe('kube-proxy config dialect per version', () => {
  const base = { clusterCIDR: '10.244.0.0/16', nodeName: 'node0', nodeIP: '10.200.0.2', kubeconfig: '/k' };
  it.each([
    ['v1.27.16', 'iptables'],
    ['v1.34.4', 'iptables'],
    ['v1.34.4', 'nftables'],
  ] as const)('%s %s: every field written is one the real binary knows (its --write-config-to)', async (ver, mode) => {
    const known = new Set(paths(k8s.loadYaml(await fixture(`write-config-${ver}.yaml`))));
    const cfg = kubeProxyConfig({ ...base, mode, dialect: checkedDialect(v(ver), mode, {}), featureGates: { SomeGate: true } });
    const unknown = paths(cfg).filter((p) => !known.has(p) && !['apiVersion', 'kind', 'featureGates.SomeGate'].includes(p));
    expect(unknown).toEqual([]);
    expect(cfg).toMatchObject({ mode, iptables: { localhostNodePorts: false }, featureGates: { SomeGate: true } });
  });
  it('v1.27 gets no logging and no nftables section; v1.34 keeps both', () => {
    const c27 = kubeProxyConfig({ ...base, mode: 'iptables', dialect: kubeProxyDialect(v('v1.27.16')) });
    expect(c27).not.toHaveProperty('logging');
    expect(c27).not.toHaveProperty('nftables');
    const c34 = kubeProxyConfig({ ...base, mode: 'iptables', dialect: kubeProxyDialect(v('v1.34.4')) });
    expect(c34).toHaveProperty('logging');
    expect(c34).toHaveProperty('nftables');
    expect(kubeProxyConfig({ ...base, mode: 'iptables', dialect: kubeProxyDialect(v('v1.28.0')) })).toHaveProperty('logging');
    expect(kubeProxyConfig({ ...base, mode: 'iptables', dialect: kubeProxyDialect(v('v1.28.0')) })).not.toHaveProperty('nftables');
    // no featureGates key at all when none are set
    expect(c27).not.toHaveProperty('featureGates');
  });
  it('refuses what a version cannot express, naming the fix', () => {
    expect(() => checkedDialect(v('v1.27.16'), 'nftables', {})).toThrow(/no nftables mode.*--proxy-mode iptables/);
    expect(() => checkedDialect(v('v1.29.3'), 'nftables', {})).toThrow(/NFTablesProxyMode=true/);
    expect(checkedDialect(v('v1.29.3'), 'nftables', { NFTablesProxyMode: true }).nftables).toBe(true);
    expect(checkedDialect(v('v1.31.0'), 'nftables', {}).nftablesNeedsGate).toBe(false);
    expect(() => kubeProxyDialect(v('v1.26.15'))).toThrow(KubeProxyVersionError);
    expect(() => kubeProxyDialect(v('v1.26.15'))).toThrow(/localhostNodePorts/);
    // a newer build than the table knows gets the newest dialect
    expect(kubeProxyDialect(v('v1.36.0-alpha.0.5+abc'))).toMatchObject({ minor: 36, logging: true, nftables: true });
  });
});

describe('--kube-proxy-arg', () => {
  it('feature gates from --feature-gates flags; a later flag wins', () => {
    expect(featureGatesFromArgs(['--v=2', '--feature-gates=MinimizeIPTablesRestore=false,Foo=true', '--feature-gates=Foo=false'])).toEqual({ MinimizeIPTablesRestore: false, Foo: false });
    expect(() => featureGatesFromArgs(['--feature-gates=MinimizeIPTablesRestore'])).toThrow(/must be <Gate>=true/);
    expect(() => featureGatesFromArgs(['--feature-gates=A=yes'])).toThrow(KubeProxyVersionError);
  });
  it('one flag per argument', () => {
    expect(isFlagArg('--feature-gates=A=true')).toBe(true);
    expect(isFlagArg('-v=4')).toBe(true);
    expect(isFlagArg('--v')).toBe(true);
    expect(isFlagArg('feature-gates=A=true')).toBe(false);
    expect(isFlagArg('--a b')).toBe(false);
    expect(flagName('--feature-gates=A=true')).toBe('feature-gates');
    expect(flagName('-v=4')).toBe('v');
  });
  it("flags and gates from the real v1.27.16 --help", async () => {
    const help = await fixture('kube-proxy-v1.27.16.help.txt');
    const flags = flagsFromHelp(help);
    for (const f of ['feature-gates', 'config', 'write-config-to', 'v', 'master', 'proxy-mode', 'iptables-min-sync-period']) expect(flags.has(f), f).toBe(true);
    expect(flags.has('nftables-sync-period')).toBe(false);
    const gates = gatesFromHelp(help);
    expect(gates.has('MinimizeIPTablesRestore')).toBe(true);
    expect(gates.has('NFTablesProxyMode')).toBe(false);
  });
  it('lab up refuses malformed --kube-proxy-arg and an empty --kube-proxy before anything is touched', () => {
    expect(() => parseLabArgs(['up', '--kube-proxy-arg', 'feature-gates=A=true'], {})).toThrow(UsageError);
    expect(() => parseLabArgs(['up', '--kube-proxy', ''], {})).toThrow(/--kube-proxy must not be empty/);
    const a = parseLabArgs(['up', '--state-dir', '/s', '--kube-proxy', 'v1.27.16', '--proxy-mode', 'iptables', '--kube-proxy-arg=--feature-gates=MinimizeIPTablesRestore=false', '--kube-proxy-arg=--v=2'], {});
    expect(a).toMatchObject({ kubeProxy: 'v1.27.16', kubeProxyArgs: ['--feature-gates=MinimizeIPTablesRestore=false', '--v=2'], proxyMode: 'iptables' });
  });
});

describe("kube-proxy's own account on /metrics", () => {
  it('version from kubernetes_build_info, gates from kubernetes_feature_enabled, sync and start times', async () => {
    const info = kubeProxyInfo(await parseMetrics(await fixture('metrics-iptables-after.txt')));
    expect(info.version).toBe('v1.34.4');
    expect(Object.keys(info.featureGates).length).toBeGreaterThan(10);
    expect(info.processStart).toBeGreaterThan(1.7e9);
    expect(info.lastSync).toBeGreaterThan(info.processStart!);
    expect(describeGates(['NFTablesProxyMode'], info.featureGates)).toBe(`NFTablesProxyMode=${String(info.featureGates.NFTablesProxyMode)}`);
    expect(describeGates(['Nope'], {})).toMatch(/Nope=\?/);
  });
  it('no build info: null, never a guess', async () => {
    expect(kubeProxyInfo(await parseMetrics('# TYPE x gauge\nx 1\n')).version).toBeNull();
  });
});
