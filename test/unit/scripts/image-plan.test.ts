// scripts/image.mjs: which commands its arguments become (scripts/image-plan.mjs, pure).
// No engine runs here; bad arguments must be refused with exit code 2 before anything runs.
import { describe, expect, it } from 'vitest';

interface Step {
  file: string;
  args: string[];
}
interface ImagePlan {
  command: 'build' | 'load-kind' | 'push' | 'help';
  image: string;
  engine: string;
  tools: string[];
  preflight: Step[];
  steps: Step[];
  cleanup: string[];
  target?: string;
  cluster?: string;
}
interface ImagePlanModule {
  planImage: (argv: string[], ctx: { env?: Record<string, string | undefined>; version: string; tmpDir?: string }) => ImagePlan;
  imageReference: (o: { env?: Record<string, string | undefined>; version: string; tag?: string }) => string;
  splitReference: (ref: string) => { repository: string; tag: string | undefined };
  ImagePlanError: new (message: string, exitCode?: number) => Error & { exitCode: number };
  DEFAULT_REPOSITORY: string;
}

// .mjs without type declarations: imported by URL, typed here
const mod = (await import(new URL('../../../scripts/image-plan.mjs', import.meta.url).href)) as ImagePlanModule;
const { planImage, imageReference, splitReference, ImagePlanError } = mod;
const V = '0.1.0';
const plan = (argv: string[], env: Record<string, string> = {}): ImagePlan => planImage(argv, { env, version: V, tmpDir: '/tmp/x/' });
const cmd = (s: Step): string => [s.file, ...s.args].join(' ');

describe('image reference', () => {
  it('SLI_IMAGE, else ghcr.io/kube-sli/kube-sli:<version>; --tag replaces the tag or the reference', () => {
    expect(mod.DEFAULT_REPOSITORY).toBe('ghcr.io/kube-sli/kube-sli');
    expect(imageReference({ version: V })).toBe('ghcr.io/kube-sli/kube-sli:0.1.0');
    expect(imageReference({ version: V, tag: 'dev' })).toBe('ghcr.io/kube-sli/kube-sli:dev');
    expect(imageReference({ version: V, tag: ':dev' })).toBe('ghcr.io/kube-sli/kube-sli:dev');
    expect(imageReference({ env: { SLI_IMAGE: 'localhost:5000/kit:pr-7' }, version: V })).toBe('localhost:5000/kit:pr-7');
    expect(imageReference({ env: { SLI_IMAGE: 'localhost:5000/kit:pr-7' }, version: V, tag: 'pr-8' })).toBe('localhost:5000/kit:pr-8');
    expect(imageReference({ env: { SLI_IMAGE: 'localhost:5000/kit' }, version: V })).toBe('localhost:5000/kit:latest');
    expect(imageReference({ version: V, tag: 'quay.io/me/kit:1' })).toBe('quay.io/me/kit:1');
    expect(imageReference({ version: V, tag: 'kit:local' })).toBe('kit:local');
    expect(imageReference({ env: { SLI_IMAGE: '' }, version: V })).toBe('ghcr.io/kube-sli/kube-sli:0.1.0');
  });

  it('splits registry ports from tags', () => {
    expect(splitReference('reg:5000/a/b:1.2')).toEqual({ repository: 'reg:5000/a/b', tag: '1.2' });
    expect(splitReference('reg:5000/a/b')).toEqual({ repository: 'reg:5000/a/b', tag: undefined });
  });

  it.each([
    [{ env: { SLI_IMAGE: 'has space' } }, /SLI_IMAGE="has space" is not an image reference/],
    [{ tag: 'Upper/Case:1' }, /repository must be lowercase/],
    [{ tag: '-bad' }, /tag "-bad" is not valid/],
    [{ env: { SLI_IMAGE: 'ghcr.io/a/b@sha256:abc' } }, /a digest reference cannot be built/],
    [{ version: 'not a tag!' }, /package\.json version "not a tag!" cannot be an image tag/],
  ])('%j is refused', (o, message) => {
    expect(() => imageReference({ version: V, ...o })).toThrow(message);
  });
});

describe('planImage', () => {
  it('build: <engine> build with the Dockerfile at the root, after checking the engine answers', () => {
    const p = plan(['build']);
    expect(p.tools).toEqual(['docker']);
    expect(p.preflight.map(cmd)).toEqual(['docker info']);
    expect(p.steps.map(cmd)).toEqual(['docker build --file Dockerfile --tag ghcr.io/kube-sli/kube-sli:0.1.0 --build-arg VERSION=0.1.0 .']);
    expect(plan(['build', '--engine', 'podman', '--tag', 'dev']).steps.map(cmd)).toEqual([
      'podman build --file Dockerfile --tag ghcr.io/kube-sli/kube-sli:dev --build-arg VERSION=0.1.0 .',
    ]);
    expect(plan(['build'], { CONTAINER_ENGINE: 'podman' }).engine).toBe('podman');
  });

  it('load-kind: kind load docker-image into the cluster (default kube-sli-nftables); podman goes through an archive', () => {
    const d = plan(['load-kind']);
    expect(d.tools).toEqual(['kind', 'docker']);
    expect(d.steps.map(cmd)).toEqual(['kind load docker-image ghcr.io/kube-sli/kube-sli:0.1.0 --name kube-sli-nftables']);
    expect(plan(['load-kind', '--cluster', 'kube-sli-iptables']).steps.map(cmd)).toEqual([
      'kind load docker-image ghcr.io/kube-sli/kube-sli:0.1.0 --name kube-sli-iptables',
    ]);
    expect(plan(['load-kind'], { KIND_CLUSTER_NAME: 'kind' }).cluster).toBe('kind');
    const p = plan(['load-kind', '--engine', 'podman', '--cluster', 'c1']);
    expect(p.tools).toEqual(['kind', 'podman']);
    expect(p.steps.map(cmd)).toEqual([
      'podman save --format docker-archive --output /tmp/x/kube-sli-image-c1.tar ghcr.io/kube-sli/kube-sli:0.1.0',
      'kind load image-archive /tmp/x/kube-sli-image-c1.tar --name c1',
    ]);
    expect(p.cleanup).toEqual(['/tmp/x/kube-sli-image-c1.tar']);
  });

  it('push: tag for the registry, then push', () => {
    const p = plan(['push', '--registry', 'localhost:5000']);
    expect(p.target).toBe('localhost:5000/kube-sli:0.1.0');
    expect(p.steps.map(cmd)).toEqual(['docker tag ghcr.io/kube-sli/kube-sli:0.1.0 localhost:5000/kube-sli:0.1.0', 'docker push localhost:5000/kube-sli:0.1.0']);
    expect(plan(['push', '--registry', 'ghcr.io/me/', '--tag', 'dev', '--engine', 'podman']).steps.map(cmd)).toEqual([
      'podman tag ghcr.io/kube-sli/kube-sli:dev ghcr.io/me/kube-sli:dev',
      'podman push ghcr.io/me/kube-sli:dev',
    ]);
    // already the registry's reference: no tag step
    expect(plan(['push', '--registry', 'ghcr.io/kube-sli']).steps.map(cmd)).toEqual(['docker push ghcr.io/kube-sli/kube-sli:0.1.0']);
  });

  it('help', () => {
    expect(plan(['--help']).command).toBe('help');
    expect(plan(['build', '--help']).command).toBe('help');
  });

  it.each([
    [[], /missing command/],
    [['deploy'], /unknown command "deploy"; use build, load-kind or push/],
    [['build', '--engine', 'nerdctl'], /--engine "nerdctl" must be docker or podman/],
    [['build', '--registry', 'x'], /Unknown option '--registry'/],
    [['build', 'extra'], /Unexpected argument 'extra'/],
    [['build', '--tag', ''], /--tag must not be empty/],
    [['push'], /push needs --registry REG/],
    [['push', '--registry', 'https://ghcr.io/me'], /without a scheme/],
    [['push', '--registry', 'Ghcr.io/Me'], /is not a registry path/],
    [['load-kind', '--cluster', 'Bad_Name'], /--cluster "Bad_Name" is not a kind cluster name/],
    [['load-kind', '--registry', 'x'], /Unknown option '--registry'/],
  ])('%j is refused with exit code 2', (argv, message) => {
    let err: unknown;
    try {
      plan(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImagePlanError);
    expect((err as { exitCode: number }).exitCode).toBe(2);
    expect((err as Error).message).toMatch(message);
  });
});
