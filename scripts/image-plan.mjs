// What `scripts/image.mjs` runs for its arguments, as a pure function (unit-tested in
// test/unit/scripts/image-plan.test.ts): no processes, no file system, no environment
// except what is passed in.
//
//   build     [--tag T] [--engine docker|podman]
//   load-kind [--cluster NAME] [--tag T] [--engine docker|podman]
//   push      --registry REG [--tag T] [--engine docker|podman]
//
// The image reference is $SLI_IMAGE (the same variable the suites read for the image their
// pods run), else ghcr.io/kube-sli/kube-sli:<package.json version>. --tag T replaces its tag,
// or the whole reference when T contains "/" (or a ":" after the last "/" only: repo:tag).
import { parseArgs } from 'node:util';

export const DEFAULT_REPOSITORY = 'ghcr.io/kube-sli/kube-sli';
/** kindClusterName() in src/providers/kind.ts with its defaults, and scripts/kind.mjs up */
export const DEFAULT_KIND_CLUSTER = 'kube-sli-nftables';
export const ENGINES = ['docker', 'podman'];
export const IMAGE_EXIT = { ok: 0, usage: 2, environment: 3 };

export const IMAGE_USAGE = `usage: node scripts/image.mjs <command> [options]

Builds and ships the kit image (Dockerfile at the repository root; entrypoint kube-sli).

commands:
  build       build the image
  load-kind   copy the built image into a kind cluster's nodes (kind load)
  push        tag the image for a registry and push it

options:
  --tag T              tag (or full reference when T contains "/"); default: the image's tag
  --engine E           docker or podman (default docker; env CONTAINER_ENGINE)
  --cluster NAME       load-kind: kind cluster (default $KIND_CLUSTER_NAME, else ${DEFAULT_KIND_CLUSTER})
  --registry REG       push: registry and path, e.g. ghcr.io/me or localhost:5000

image: $SLI_IMAGE, else ${DEFAULT_REPOSITORY}:<package.json version>
exit codes: 0 done, 2 bad arguments, 3 engine/kind missing or a command failed`;

export class ImagePlanError extends Error {
  /** @param {string} message @param {number} [exitCode] */
  constructor(message, exitCode = IMAGE_EXIT.usage) {
    super(message);
    this.name = 'ImagePlanError';
    this.exitCode = exitCode;
  }
}

// like src/config/knobs.ts accepts for SLI_IMAGE, plus: lowercase repository, sane tag
const REF_CHARS = /^[\w.\-/:@]+$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;
const KIND_NAME = /^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/;

/**
 * Splits "reg:5000/a/b:tag" into repository and tag (tag undefined when absent; a digest
 * reference keeps its "@sha256:…" in the repository part and has no tag).
 * @param {string} ref
 * @returns {{ repository: string, tag: string | undefined }}
 */
export function splitReference(ref) {
  if (ref.includes('@')) return { repository: ref, tag: undefined };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repository: ref, tag: undefined };
}

/**
 * The image reference to build/load/push.
 * @param {{ env?: Record<string, string | undefined>, version: string, tag?: string }} o
 * @returns {string}
 */
export function imageReference({ env = {}, version, tag }) {
  let base;
  if (env.SLI_IMAGE !== undefined && env.SLI_IMAGE !== '') {
    base = env.SLI_IMAGE;
    if (!REF_CHARS.test(base)) throw new ImagePlanError(`SLI_IMAGE=${JSON.stringify(base)} is not an image reference (e.g. ghcr.io/me/kube-sli:dev)`);
  } else {
    if (!version || !TAG.test(version)) throw new ImagePlanError(`package.json version ${JSON.stringify(version)} cannot be an image tag; set SLI_IMAGE or pass --tag`);
    base = `${DEFAULT_REPOSITORY}:${version}`;
  }
  let ref = base;
  if (tag !== undefined) {
    if (tag.includes('/')) ref = tag;
    else if (tag.includes(':')) ref = tag.startsWith(':') ? `${splitReference(base).repository}${tag}` : tag;
    else ref = `${splitReference(base).repository}:${tag}`;
  }
  const { repository, tag: t } = splitReference(ref);
  if (ref.includes('@')) throw new ImagePlanError(`${ref}: a digest reference cannot be built or tagged; give a tag`);
  if (!REPOSITORY.test(repository)) {
    throw new ImagePlanError(`${JSON.stringify(ref)} is not a valid image reference: the repository must be lowercase letters, digits and . _ - separated by / (e.g. ghcr.io/me/kube-sli)`);
  }
  if (t !== undefined && !TAG.test(t)) throw new ImagePlanError(`tag ${JSON.stringify(t)} is not valid: letters, digits, _ . - (up to 128, not starting with . or -)`);
  // no tag means :latest to docker and to the pods that get SLI_IMAGE: say so explicitly
  return t === undefined ? `${ref}:latest` : ref;
}

/**
 * @typedef {{ file: string, args: string[] }} Step
 * @typedef {{
 *   command: 'build' | 'load-kind' | 'push' | 'help',
 *   image: string,
 *   engine: string,
 *   tools: string[],
 *   preflight: Step[],
 *   steps: Step[],
 *   cleanup: string[],
 *   target?: string,
 *   cluster?: string,
 * }} ImagePlan
 */

/**
 * Arguments → the commands to run, in order. Throws ImagePlanError (exitCode 2) for bad
 * arguments. `tools` must be on PATH and the `preflight` commands must succeed (image.mjs
 * checks both before any step runs: exit 3), e.g. `docker info` answers only when the
 * engine runs, not just its CLI is installed.
 * @param {string[]} argv
 * @param {{ env?: Record<string, string | undefined>, version: string, tmpDir?: string }} ctx
 * @returns {ImagePlan}
 */
export function planImage(argv, { env = {}, version, tmpDir = '/tmp' }) {
  const [command, ...rest] = argv;
  if (command === undefined) throw new ImagePlanError(`missing command\n\n${IMAGE_USAGE}`);
  if (command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help', image: '', engine: '', tools: [], preflight: [], steps: [], cleanup: [] };
  }
  if (command !== 'build' && command !== 'load-kind' && command !== 'push') {
    throw new ImagePlanError(`unknown command "${command}"; use build, load-kind or push\n\n${IMAGE_USAGE}`);
  }
  const options = {
    tag: { type: 'string' },
    engine: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...(command === 'load-kind' ? { cluster: { type: 'string' } } : {}),
    ...(command === 'push' ? { registry: { type: 'string' } } : {}),
  };
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: /** @type {import('node:util').ParseArgsOptionsConfig} */ (options), strict: true, allowPositionals: false }));
  } catch (e) {
    throw new ImagePlanError(`${command}: ${/** @type {Error} */ (e).message}\n\n${IMAGE_USAGE}`);
  }
  if (values.help) return { command: 'help', image: '', engine: '', tools: [], preflight: [], steps: [], cleanup: [] };
  const engine = /** @type {string} */ (values.engine ?? (env.CONTAINER_ENGINE || 'docker'));
  if (!ENGINES.includes(engine)) throw new ImagePlanError(`--engine "${engine}" must be docker or podman`);
  if (values.tag === '') throw new ImagePlanError('--tag must not be empty');
  const image = imageReference({ env, version, tag: /** @type {string | undefined} */ (values.tag) });
  const preflight = [{ file: engine, args: ['info'] }];

  if (command === 'build') {
    return {
      command,
      image,
      engine,
      tools: [engine],
      preflight,
      steps: [{ file: engine, args: ['build', '--file', 'Dockerfile', '--tag', image, '--build-arg', `VERSION=${version}`, '.'] }],
      cleanup: [],
    };
  }

  if (command === 'load-kind') {
    const cluster = /** @type {string} */ (values.cluster ?? (env.KIND_CLUSTER_NAME || DEFAULT_KIND_CLUSTER));
    if (!KIND_NAME.test(cluster)) throw new ImagePlanError(`--cluster "${cluster}" is not a kind cluster name (lowercase letters, digits, -)`);
    if (engine === 'docker') {
      return { command, image, engine, cluster, tools: ['kind', 'docker'], preflight, steps: [{ file: 'kind', args: ['load', 'docker-image', image, '--name', cluster] }], cleanup: [] };
    }
    // kind reads images from Docker; from podman the image goes through an archive
    const archive = `${tmpDir.replace(/\/+$/, '')}/kube-sli-image-${cluster}.tar`;
    return {
      command,
      image,
      engine,
      cluster,
      tools: ['kind', 'podman'],
      preflight,
      steps: [
        { file: 'podman', args: ['save', '--format', 'docker-archive', '--output', archive, image] },
        { file: 'kind', args: ['load', 'image-archive', archive, '--name', cluster] },
      ],
      cleanup: [archive],
    };
  }

  // push
  const registry = /** @type {string | undefined} */ (values.registry);
  if (registry === undefined || registry === '') throw new ImagePlanError('push needs --registry REG, e.g. --registry ghcr.io/me or --registry localhost:5000');
  if (registry.includes('://')) throw new ImagePlanError(`--registry "${registry}": give it without a scheme, e.g. ghcr.io/me or localhost:5000`);
  const reg = registry.replace(/\/+$/, '');
  if (!REPOSITORY.test(reg)) throw new ImagePlanError(`--registry "${registry}" is not a registry path (lowercase host[:port][/path], e.g. ghcr.io/me)`);
  const { repository, tag } = splitReference(image);
  const name = repository.slice(repository.lastIndexOf('/') + 1);
  const target = `${reg}/${name}:${tag}`;
  const steps = target === image ? [] : [{ file: engine, args: ['tag', image, target] }];
  steps.push({ file: engine, args: ['push', target] });
  return { command, image, engine, target, tools: [engine], preflight, steps, cleanup: [] };
}
