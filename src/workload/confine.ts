// The loadgen connects only inside the cluster: to the Service and pod CIDRs it was given
// at start. Anything else in a run or probe request (an outside address, a DNS name that
// could resolve anywhere) is refused before a socket is opened, so a loadgen pod cannot be
// turned into a scanner or a traffic source toward the rest of the network.
import net from 'node:net';
import { anyCidrContains, parseCidr, type Cidr } from '../net/cidr.js';

/** the pod's environment variable with the allowed CIDRs, comma-separated */
export const CONFINE_ENV = 'KUBE_SLI_LOADGEN_ALLOW';

export class ConfinementError extends Error {
  override name = 'ConfinementError';
}

export interface Confinement {
  /** the allowed ranges, as given */
  readonly cidrs: readonly string[];
  /** throws ConfinementError unless `host` is an IP address inside the allowed ranges */
  check(host: string, label: string): void;
}

/** Throws CidrError on a malformed range and ConfinementError on an empty list. */
export function confineTo(cidrs: readonly string[]): Confinement {
  if (cidrs.length === 0) {
    throw new ConfinementError('no allowed CIDR: give the cluster\'s Service and pod CIDRs (--allow-cidr, repeatable, or KUBE_SLI_LOADGEN_ALLOW=cidr,cidr)');
  }
  const parsed: Cidr[] = cidrs.map(parseCidr);
  const shown = parsed.map((c) => c.text).join(', ');
  return {
    cidrs: parsed.map((c) => c.text),
    check(host: string, label: string): void {
      if (net.isIP(host) === 0) {
        throw new ConfinementError(`${label} "${host}" is not an IP address: the loadgen connects only to addresses in ${shown} (give the Service's ClusterIP or a pod IP)`);
      }
      if (!anyCidrContains(parsed, host)) {
        throw new ConfinementError(`${label} ${host} is outside the cluster's Service and pod CIDRs (${shown}): the loadgen connects only inside the cluster`);
      }
    },
  };
}

/** Checks every target of a run, or the host of a probe. */
export function checkTargets(confinement: Confinement, spec: { targets: readonly { host: string }[] } | { host: string }): void {
  if ('targets' in spec) spec.targets.forEach((t, i) => confinement.check(t.host, `targets[${i}].host`));
  else confinement.check(spec.host, 'host');
}
