// Free loopback ports for a throwaway control plane, so tests never collide with a lab
// somebody else runs on this machine.

export const labSkipReason: string | undefined =
  process.platform !== 'linux'
    ? `needs Linux; this is ${process.platform}`
    : process.getuid?.() !== 0
      ? 'needs root (the embedded lab runs as root): run as root, e.g. in CI'
      : undefined;

export { freeLoopbackPorts as freePorts, freeControlPlanePorts } from '../../../src/lab/control-plane/index.js';
