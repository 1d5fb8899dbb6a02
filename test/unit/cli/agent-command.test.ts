// Bad agent input is refused before anything is touched, with exit code 2 and a message
// that names the input and the fix.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { main } from '../../../src/cli/run.js';

describe('kube-sli agent: invalid input', () => {
  const errors: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    errors.length = 0;
  });
  const run = async (argv: string[]): Promise<number> => {
    vi.spyOn(console, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    return main(argv);
  };

  it.each([
    [['agent'], /no service CIDR given: pass --service-cidr/],
    [['agent', '--service-cidr', '10.96.0.0/33'], /invalid CIDR "10.96.0.0\/33"/],
    [['agent', '--service-cidr', '10.96.0.0/12', '--listen', 'nowhere'], /--listen "nowhere" must be <host:port>/],
    [['agent', '--service-cidr', '10.96.0.0/12', '--listen', '127.0.0.1:70000'], /listen port 70000 is not a TCP port/],
    [['agent', '--service-cidr', '10.96.0.0/12', '--mode', 'everything'], /--mode "everything" must be records or histogram/],
    [['agent', '--service-cidr', '10.96.0.0/12', '--conntrack-buffer', 'big'], /--conntrack-buffer "big" must be a byte count/],
    [['agent', '--service-cidr', '10.96.0.0/12', '--no-capture', '--no-conntrack'], /both collectors are disabled/],
    [['agent', '--service-cidr', '10.96.0.0/12', '--conntrack-reader', 'ulogd'], /--conntrack-reader "ulogd" must be auto, kube-sli-ct-events or conntrack/],
    [['agent', '--bogus'], /Unknown option '--bogus'/],
  ])('%j', async (argv, message) => {
    expect(await run(argv)).toBe(EXIT.invalidConfig);
    expect(errors.join('\n')).toMatch(message);
  });

  it('an unknown command exits 2 and lists the commands', async () => {
    expect(await run(['agnet'])).toBe(EXIT.invalidConfig);
    expect(errors.join('\n')).toMatch(/unknown command "agnet"[\s\S]*agent[\s\S]*compare/);
  });
});
