// kube-sli command line (importable; main.ts is the process entry). Each subcommand
// returns an exit code from EXIT; errors are mapped here so every command reports them the same way.
import { createRequire } from 'node:module';
import { agentCommand } from './agent-command.js';
import { compareCommand } from './compare.js';
import { gcCommand } from './gc-command.js';
import { loadgenCommand } from './loadgen-command.js';
import { labCommand } from './lab-command.js';
import { EXIT, UsageError } from './exit-codes.js';

const USAGE = `usage: kube-sli <command> [options]
       kube-sli --version

commands:
  ab         A/B of two kube-proxies on one lab, interleaved rounds; exit 1 on a significant regression
  agent      run the node agent (capture + conntrack collectors, Prometheus, flow records)
  compare    compare two report files (base, candidate); exit 1 on a significant regression
  gc         delete what dead kube-sli sessions left in the cluster (by session label)
  lab        embedded lab: up, down, status, kubeconfig (real control plane + kube-proxy; root, Linux)
  loadgen    in-cluster client: runs connections and probes on request (driven through pods/proxy)
  version    print the kit version (also: kube-sli --version)

Run "kube-sli <command> --help" for a command's options.

exit codes (every command): ${EXIT.ok} ok, ${EXIT.breached} SLO breached or significant regression, ${EXIT.invalidConfig} invalid
configuration or arguments (nothing was touched), ${EXIT.infrastructure} the environment failed`;

export const VERSION_USAGE = `usage: kube-sli version
       kube-sli --version

Prints the kit version (package.json) and nothing else.`;

function version(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  // loaded on use: the lab daemon runs this CLI too and should start fast
  ab: async (argv) => (await import('./ab-command.js')).abCommand(argv),
  agent: agentCommand,
  compare: compareCommand,
  gc: gcCommand,
  loadgen: loadgenCommand,
  lab: labCommand,
  version: async (argv) => {
    if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
      console.log(VERSION_USAGE);
      return EXIT.ok;
    }
    if (argv.length > 0) throw new UsageError(`takes no arguments (got ${argv.join(' ')})\n\n${VERSION_USAGE}`);
    console.log(version());
    return EXIT.ok;
  },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? EXIT.invalidConfig : EXIT.ok;
  }
  if (name === '--version' || name === '-V') return commands.version!(rest);
  const command = commands[name];
  if (!command) {
    console.error(`kube-sli: unknown command "${name}"\n\n${USAGE}`);
    return EXIT.invalidConfig;
  }
  try {
    return await command(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`kube-sli ${name}: ${e.message}`);
      return EXIT.invalidConfig;
    }
    console.error(`kube-sli ${name}: ${(e as Error).stack ?? String(e)}`);
    return EXIT.infrastructure;
  }
}
