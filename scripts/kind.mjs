#!/usr/bin/env node
// A kind cluster with the kube-proxy mode under test, configured by kindClusterConfig() in
// src/providers/kind.ts (the same YAML the kind provider uses; loaded through tsx's API, so
// plain `node scripts/kind.mjs` works). The YAML goes to `kind create cluster --config -`.
//   node scripts/kind.mjs up --proxy-mode iptables|nftables [--name N] [--workers N] [--node-image IMG]
//   node scripts/kind.mjs down [--name N | --proxy-mode M]
//   node scripts/kind.mjs config --proxy-mode M ...   (print the YAML only)
// exit codes: 0 done, 2 bad arguments, 3 kind/engine missing or kind failed
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const KIND_USAGE = `usage: node scripts/kind.mjs <up|down|config> [options]

  up       create a kind cluster (kind writes its context to ~/.kube/config and makes it current)
  down     delete it
  config   print the kind cluster configuration (YAML) and exit

options:
  --proxy-mode M     kube-proxy mode: iptables or nftables (default nftables)
  --name N           cluster name (default kube-sli-<proxy mode>)
  --workers N        worker nodes besides the control plane, 0-20 (default 1)
  --node-image IMG   kindest/node image, e.g. kindest/node:v1.34.0

The kit image is loaded separately: node scripts/image.mjs load-kind --cluster N`;

export class KindPlanError extends Error {
  /** @param {string} message @param {number} [exitCode] */
  constructor(message, exitCode = 2) {
    super(message);
    this.name = 'KindPlanError';
    this.exitCode = exitCode;
  }
}

const MODES = ['iptables', 'nftables'];
const NAME = /^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/;

/**
 * Arguments → what to do (pure). `config` holds kindClusterConfig()'s options.
 * @param {string[]} argv
 * @returns {{ action: 'up' | 'down' | 'config' | 'help', name: string, config: { proxyMode: string, workers?: number, nodeImage?: string } }}
 */
export function planKind(argv) {
  const [action, ...rest] = argv;
  const help = { action: /** @type {const} */ ('help'), name: '', config: { proxyMode: 'nftables' } };
  if (action === undefined) throw new KindPlanError(`missing command\n\n${KIND_USAGE}`);
  if (action === 'help' || action === '--help' || action === '-h') return help;
  if (action !== 'up' && action !== 'down' && action !== 'config') throw new KindPlanError(`unknown command "${action}"; use up, down or config\n\n${KIND_USAGE}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        'proxy-mode': { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(action !== 'down' ? { workers: { type: 'string' }, 'node-image': { type: 'string' } } : {}),
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new KindPlanError(`${action}: ${/** @type {Error} */ (e).message}\n\n${KIND_USAGE}`);
  }
  const v = /** @type {Record<string, string | boolean | undefined>} */ (values);
  if (v.help) return help;
  const proxyMode = /** @type {string} */ (v['proxy-mode'] ?? 'nftables');
  if (!MODES.includes(proxyMode)) throw new KindPlanError(`--proxy-mode "${proxyMode}" must be iptables or nftables`);
  const name = /** @type {string} */ (v.name ?? `kube-sli-${proxyMode}`);
  if (!NAME.test(name)) throw new KindPlanError(`--name "${name}" is not a kind cluster name (lowercase letters, digits, -; up to 50)`);
  /** @type {{ proxyMode: string, workers?: number, nodeImage?: string }} */
  const config = { proxyMode };
  if (v.workers !== undefined) {
    const w = String(v.workers);
    if (!/^\d+$/.test(w) || Number(w) > 20) throw new KindPlanError(`--workers "${w}" must be an integer 0-20`);
    config.workers = Number(w);
  }
  if (v['node-image'] !== undefined) {
    const img = String(v['node-image']);
    if (!/^[\w.\-/:@]+$/.test(img)) throw new KindPlanError(`--node-image "${img}" is not an image reference (e.g. kindest/node:v1.34.0)`);
    config.nodeImage = img;
  }
  return { action, name, config };
}

async function main() {
  let plan;
  try {
    plan = planKind(process.argv.slice(2));
  } catch (e) {
    if (e instanceof KindPlanError) {
      console.error(`kind: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  if (plan.action === 'help') {
    console.log(KIND_USAGE);
    return 0;
  }
  const { tsImport } = await import('tsx/esm/api');
  const { kindClusterConfig } = await tsImport('../src/providers/kind.ts', import.meta.url);
  const yaml = kindClusterConfig(plan.config);
  if (plan.action === 'config') {
    process.stdout.write(yaml);
    return 0;
  }
  const { $, which } = await import('zx');
  const engine = process.env.KIND_EXPERIMENTAL_PROVIDER || 'docker';
  for (const tool of ['kind', engine]) {
    if (!(await which(tool, { nothrow: true }))) {
      console.error(`kind: "${tool}" is not on PATH. Fix: install ${tool === 'kind' ? 'kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)' : `${tool} and start its engine`}`);
      return 3;
    }
  }
  const run = $({ stdio: 'inherit', nothrow: true, verbose: false });
  if (plan.action === 'down') {
    console.error(`+ kind delete cluster --name ${plan.name}`);
    const r = await run`kind delete cluster --name ${plan.name}`;
    return r.exitCode === 0 ? 0 : 3;
  }
  console.error(`+ kind create cluster --name ${plan.name} --config - (kubeProxyMode: ${plan.config.proxyMode})`);
  const r = await $({ input: yaml, stdio: ['pipe', 'inherit', 'inherit'], nothrow: true, verbose: false })`kind create cluster --name ${plan.name} --config -`;
  if (r.exitCode !== 0) {
    console.error(`kind: kind create cluster --name ${plan.name} failed (exit ${r.exitCode}); is the ${engine} engine running? A cluster of that name may exist already (node scripts/kind.mjs down --name ${plan.name})`);
    return 3;
  }
  console.error(`kind: cluster ${plan.name} is up (kubectl context kind-${plan.name}); load the kit image: node scripts/image.mjs load-kind --cluster ${plan.name}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
