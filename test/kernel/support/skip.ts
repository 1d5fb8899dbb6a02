// Kernel tests need root, Linux and the dataplane tools; elsewhere they skip with the reason.
import { kernelSkipReason } from '../../../src/netns/netns.js';

export const KERNEL_TOOLS = ['ip', 'nft', 'iptables-restore', 'conntrack', 'tcpdump'] as const;

export const kernelSkip: string | undefined = await kernelSkipReason(KERNEL_TOOLS);
if (kernelSkip) console.warn(`kernel tests skipped: ${kernelSkip}`);
