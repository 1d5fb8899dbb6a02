// Every command answers --help on stdout with exit 0, states the shared exit codes, writes
// its placeholders one way (<file>, <host:port>), and refuses an unknown flag with exit 2.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { main } from '../../../src/cli/run.js';

const COMMANDS = ['agent', 'compare', 'gc', 'lab', 'loadgen', 'version'];

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((m: unknown) => void out.push(String(m)));
  vi.spyOn(console, 'error').mockImplementation((m: unknown) => void err.push(String(m)));
  vi.spyOn(process.stdout, 'write').mockImplementation((m: string | Uint8Array) => (out.push(String(m)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((m: string | Uint8Array) => (err.push(String(m)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** an option followed by an upper-case placeholder (PATH, HOST:PORT, N), the style not used */
const UPPER_PLACEHOLDER = /--[a-z][a-z-]*[ =][A-Z][A-Z0-9_:]*\b|\[[A-Z]+\]/;

describe('kube-sli --version', () => {
  afterEach(() => vi.restoreAllMocks());
  it('prints the package version, as "version" does', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const argv of [['--version'], ['-V'], ['version']]) {
      const r = await capture(argv);
      expect(r.code, argv.join(' ')).toBe(EXIT.ok);
      expect(r.out.trim()).toBe(pkg.version);
    }
  });
});

describe('--help of every command', () => {
  afterEach(() => vi.restoreAllMocks());
  it('the top-level usage lists every command and the shared exit codes', async () => {
    const r = await capture(['--help']);
    expect(r.code).toBe(EXIT.ok);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.out).toContain('kube-sli --version');
    expect(r.out).toMatch(/exit codes \(every command\): 0 ok, 1 SLO breached.*2 invalid[\s\S]*3 the environment failed/);
  });
  it.each(COMMANDS)('kube-sli %s --help', async (command) => {
    for (const flag of ['--help', '-h']) {
      const r = await capture([command, flag]);
      expect(r.code, `${command} ${flag}: ${r.err}`).toBe(EXIT.ok);
      expect(r.out).toMatch(new RegExp(`usage: kube-sli ${command}\\b`));
      expect(r.out, 'one placeholder style: <name>').not.toMatch(UPPER_PLACEHOLDER);
      if (command !== 'version') expect(r.out).toMatch(/exit codes: 0 .*2 /);
    }
  });
  it.each(['up', 'down', 'status', 'kubeconfig'])('kube-sli lab %s --help', async (sub) => {
    const r = await capture(['lab', sub, '--help']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain('usage: kube-sli lab <subcommand>');
  });
  it.each(COMMANDS)('kube-sli %s with an unknown flag exits 2 (invalid arguments)', async (command) => {
    const r = await capture(command === 'lab' ? ['lab', 'status', '--bogus'] : [command, '--bogus']);
    expect(r.code, r.err).toBe(EXIT.invalidConfig);
    expect(r.err).toMatch(/bogus/);
  });
});
