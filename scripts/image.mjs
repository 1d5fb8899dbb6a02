#!/usr/bin/env node
// Builds, loads into kind, or pushes the kit image. The argument → command mapping is
// scripts/image-plan.mjs (pure, unit-tested); this file checks the tools and runs it.
//   node scripts/image.mjs build [--tag T] [--engine docker|podman]
//   node scripts/image.mjs load-kind [--cluster NAME]
//   node scripts/image.mjs push --registry REG
// exit codes: 0 done, 2 bad arguments, 3 engine/kind missing or a command failed
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { $, which } from 'zx';
import { IMAGE_EXIT, IMAGE_USAGE, ImagePlanError, planImage } from './image-plan.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const INSTALL = {
  docker: 'install Docker (https://docs.docker.com/engine/install/) and start it, or use --engine podman',
  podman: 'install podman (e.g. apt-get install podman), or use --engine docker',
  kind: 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)',
};

async function main() {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  let plan;
  try {
    plan = planImage(process.argv.slice(2), { env: process.env, version: pkg.version, tmpDir: tmpdir() });
  } catch (e) {
    if (e instanceof ImagePlanError) {
      console.error(`image: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  if (plan.command === 'help') {
    console.log(IMAGE_USAGE);
    return IMAGE_EXIT.ok;
  }
  for (const tool of plan.tools) {
    if (!(await which(tool, { nothrow: true }))) {
      console.error(`image: "${tool}" is not on PATH; ${plan.command} needs it. Fix: ${INSTALL[tool] ?? `install ${tool}`}`);
      return IMAGE_EXIT.environment;
    }
  }
  for (const check of plan.preflight) {
    const r = await $({ cwd: root, nothrow: true, quiet: true })`${check.file} ${check.args}`;
    if (r.exitCode !== 0) {
      const why = String(r.stderr).trim().split('\n').at(-1) || `exit ${r.exitCode}`;
      console.error(
        `image: ${check.file} is installed but its engine does not answer (${check.file} ${check.args.join(' ')}: ${why}). ` +
          `Fix: start it (e.g. systemctl start ${check.file === 'docker' ? 'docker' : 'podman.socket'}), or use --engine ${plan.engine === 'docker' ? 'podman' : 'docker'}`,
      );
      return IMAGE_EXIT.environment;
    }
  }
  const run = $({ cwd: root, stdio: 'inherit', verbose: false });
  try {
    for (const step of plan.steps) {
      console.error(`+ ${[step.file, ...step.args].join(' ')}`);
      try {
        await run`${step.file} ${step.args}`;
      } catch (e) {
        const code = e?.exitCode ?? '?';
        console.error(`image: ${step.file} ${step.args[0]} failed (exit ${code})${plan.command === 'build' ? '; is the engine running (docker info)?' : ''}`);
        return IMAGE_EXIT.environment;
      }
    }
  } finally {
    for (const f of plan.cleanup) await rm(f, { force: true });
  }
  if (plan.command === 'build') console.log(plan.image);
  else if (plan.command === 'load-kind') console.log(`${plan.image} loaded into kind cluster ${plan.cluster}`);
  else {
    console.log(plan.target);
    console.error(`image: pushed; run the suites with SLI_IMAGE=${plan.target}`);
  }
  return IMAGE_EXIT.ok;
}

process.exitCode = await main();
