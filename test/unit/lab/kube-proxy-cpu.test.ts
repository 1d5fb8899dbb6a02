// kube-proxy's CPU on the lab, own and children apart, from /proc/<pid>/stat lines recorded
// on the lab (a v1.34.4 kube-proxy in nftables mode, seconds after its start).
import { describe, expect, it } from 'vitest';
import { kubeProxyCpu, parseProcTicks, type KubeProxyTicks } from '../../../src/lab/kube-proxy-cpu.js';

const RECORDED =
  '8707 (kube-proxy) S 32119 8707 8707 0 -1 4194560 8038 35156 0 0 10 6 6 12 20 0 5 0 7085810 1433198592 27668 18446744073709551615 4194304 69178033 140733216270688 0 0 0 0 0 2143420159 0 0 0 17 0 0 0 0 0 0 144187392 145653920 310771712 140733216273671 140733216273767 140733216273767 140733216276423 0';

describe('kube-proxy CPU from /proc/<pid>/stat', () => {
  it('own ticks (utime + stime) and waited-for children (cutime + cstime) apart, with the start time', () => {
    expect(parseProcTicks(RECORDED)).toEqual({ selfTicks: 16, childTicks: 18, startTicks: 7085810 });
    // a command name with spaces and parentheses: fields resume after the last ')'
    expect(parseProcTicks(RECORDED.replace('(kube-proxy)', '(kube (proxy) x)'))).toEqual({ selfTicks: 16, childTicks: 18, startTicks: 7085810 });
    expect(() => parseProcTicks('8707 (kube-proxy) S 1 2')).toThrow(/no field 14/);
  });
  it('seconds per node between two readings; a restarted kube-proxy is left out, not compared with the old one', () => {
    const t = (node: string, pid: number, startTicks: number, selfTicks: number, childTicks: number): KubeProxyTicks => ({ node, pid, startTicks, selfTicks, childTicks });
    const before = [t('node0', 10, 500, 100, 300), t('node1', 11, 501, 90, 200)];
    const after = [t('node0', 10, 500, 150, 650), t('node1', 12, 900, 5, 3)];
    expect(kubeProxyCpu(before, after, 100)).toEqual([{ node: 'node0', selfSeconds: 0.5, childSeconds: 3.5 }]);
  });
});
