// `kube-sli gc` as its own process until the command is registered in src/cli/run.ts:
// the same exit codes as main() (UsageError → 2, anything else → 3).
// usage: node --import tsx test/lab/support/gc-cli.ts [gc flags]
import { EXIT, UsageError } from '../../../src/cli/exit-codes.js';
import { gcCommand } from '../../../src/cli/gc-command.js';

try {
  process.exitCode = await gcCommand(process.argv.slice(2));
} catch (e) {
  console.error(`kube-sli gc: ${e instanceof UsageError ? e.message : ((e as Error).stack ?? String(e))}`);
  process.exitCode = e instanceof UsageError ? EXIT.invalidConfig : EXIT.infrastructure;
}
