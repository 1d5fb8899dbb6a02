#!/usr/bin/env node
// The whole set-up of a fresh Debian machine, run by `npm test` and `npm run slo` before
// they start (npm's pre-scripts), so the README's two commands are all a new user runs.
// Idempotent and quick when everything is there: it checks before it installs.
//
//   1. Debian packages the kernel tests and the lab need (as root: apt-get install);
//   2. Go, when there is none (Debian's golang-go; GOTOOLCHAIN=auto then fetches the
//      version lab/k8s/go.mod asks for from the Go module proxy);
//   3. the lab's Kubernetes binaries (scripts/build-lab-binaries.sh, cached by content);
//   4. the lab's images (pause, agnhost, the kit image from ./Dockerfile; cached by content);
//   and raises fs.inotify.max_user_instances to 8192 for this boot when it is lower.
//
// Not root: nothing is installed; the kernel and lab tests then skip with the reason.
// KUBE_SLI_SKIP_SETUP=1 skips it all (e.g. a machine set up by other means).
import { $, chalk } from 'zx';

$.verbose = false;
const say = (m) => process.stderr.write(`${chalk.cyan('[setup]')} ${m}\n`);

export const PACKAGES = [
  'iproute2', 'nftables', 'iptables', 'conntrack', 'tcpdump', 'iperf3', 'procps', 'curl', 'util-linux',
  // the agent's conntrack reader (src/conntrack/native/ct-events.c) is compiled on first use
  'gcc', 'libc6-dev', 'libnetfilter-conntrack3',
  // the HTML report's browser test
  'chromium',
  // real lab nodes: containerd + runc, the CNI plugins, the image builders
  'containerd', 'runc', 'containernetworking-plugins', 'buildah', 'debootstrap',
];

if (process.env.KUBE_SLI_SKIP_SETUP === '1') {
  say('KUBE_SLI_SKIP_SETUP=1: skipped');
  process.exit(0);
}
if (process.platform !== 'linux' || process.getuid?.() !== 0) {
  say('not root on Linux: installing nothing; kernel and lab tests will skip with the reason (run as root for the full set-up)');
  process.exit(0);
}

const t0 = Date.now();
const installed = async (p) => (await $`dpkg-query -W -f=${'${Status}'} ${p}`.nothrow()).stdout.includes('install ok installed');
const missing = [];
for (const p of PACKAGES) if (!(await installed(p))) missing.push(p);
const haveGo = (await $`command -v go`.nothrow()).exitCode === 0;
if (!haveGo) missing.push('golang-go');
if (missing.length > 0) {
  say(`apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await $({ env, verbose: false })`apt-get update -qq`;
  const r = await $({ env })`apt-get install -y -qq --no-install-recommends ${missing}`.nothrow();
  if (r.exitCode !== 0) {
    say(chalk.red(`apt-get install failed:\n${r.stderr}`));
    process.exit(1);
  }
}

// Every kubelet, kube-proxy and controller of a lab holds inotify instances, and kubemark's
// hollow nodes two each: the kernel's default of 128 per user runs out at a few dozen hollow
// nodes or a few labs side by side. Raised for this boot only, never lowered (kind's known
// issues, "Pod errors due to too many open files", give the same fix).
const INOTIFY = '/proc/sys/fs/inotify/max_user_instances';
const INOTIFY_MIN = 8192;
const inotifyMax = Number((await $`cat ${INOTIFY}`.nothrow()).stdout.trim());
if (inotifyMax < INOTIFY_MIN) {
  say(`fs.inotify.max_user_instances ${inotifyMax} -> ${INOTIFY_MIN} (sysctl, until reboot)`);
  const r = await $`sysctl -q -w fs.inotify.max_user_instances=${INOTIFY_MIN}`.nothrow();
  if (r.exitCode !== 0) say(chalk.yellow(`could not raise it (${r.stderr.trim()}); lab up says when a lab would not fit`));
}

say('lab binaries (scripts/build-lab-binaries.sh; a cold build takes 10-15 min on 2 cores)');
const build = await $({ env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' }, stdio: ['ignore', 'pipe', 'inherit'] })`bash scripts/build-lab-binaries.sh`.nothrow();
if (build.exitCode !== 0) process.exit(build.exitCode ?? 1);

say('lab images (pause, agnhost, the kit image from ./Dockerfile; a cold build takes a few minutes)');
const images = await $({ stdio: ['ignore', 'inherit', 'inherit'] })`node bin/kube-sli.js lab images`.nothrow();
if (images.exitCode !== 0) process.exit(images.exitCode ?? 1);
say(`ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
