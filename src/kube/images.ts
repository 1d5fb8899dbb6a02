// The kit's own image: agent, loadgen and server run from it in every cluster. On a real
// cluster SLI_IMAGE names a pushed copy; the embedded lab builds it from the Dockerfile
// and holds it under the default reference. The tag is the kit's version, never
// `latest`: a `latest` tag makes the kubelet pull on every start (imagePullPolicy Always),
// and the lab never pulls.
import { readFileSync } from 'node:fs';

export const KIT_IMAGE_REPOSITORY = 'ghcr.io/kube-sli/kube-sli';

/** agnhost under the reference upstream's e2e tests of v1.34 use (test/utils/image/manifest.go). */
export const AGNHOST_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.56';

export function kitVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The default kit image reference (SLI_IMAGE overrides it). */
export function defaultKitImage(): string {
  return `${KIT_IMAGE_REPOSITORY}:${kitVersion()}`;
}
