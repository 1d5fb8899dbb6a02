// Process entry of the kube-sli command; the logic lives in run.ts so tests can import it.
import { main } from './run.js';

process.exitCode = await main(process.argv.slice(2));
