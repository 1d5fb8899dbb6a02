// The lab network: plan (pure), fabric and nodes, pod networks, apiserver relays.
export * from './plan.js';
export { createLabNetwork, destroyAll, LabNetworkExistsError, type DestroyOptions, type DestroyReport, type LabNetwork } from './fabric.js';
export * from './relay.js';
export * from './egress.js';
