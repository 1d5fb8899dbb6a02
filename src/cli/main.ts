// Process entry of the kube-sli command; the logic lives in run.ts so tests can import it.
import { survivePipeClose } from './closed-pipes.js';
import { main } from './run.js';

survivePipeClose();
process.exitCode = await main(process.argv.slice(2));
