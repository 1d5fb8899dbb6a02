// The relay's listener helper (see relay.ts), as the program relay.ts starts inside a lab
// namespace: it listens on host:port there (configuration as JSON in KSLI_RELAY), hands the
// listening socket to its parent over IPC (SCM_RIGHTS) and exits. The socket keeps the
// namespace it was created in, so the parent accepts connections from inside the lab.
import net from 'node:net';
import { isMainModule } from './netns-program.js';

export const RELAY_CONFIG_ENV = 'KSLI_RELAY';

export interface RelayListenerConfig {
  host: string;
  port: number;
}

export type RelayListenerMessage = { address: net.AddressInfo | string | null } | { error: string };

function main(): void {
  const config = JSON.parse(process.env[RELAY_CONFIG_ENV] ?? 'null') as RelayListenerConfig | null;
  if (config === null || process.send === undefined) {
    process.stderr.write(`relay listener: start it through startRelay (needs ${RELAY_CONFIG_ENV} and an IPC channel)\n`);
    process.exit(2);
  }
  const server = net.createServer({ pauseOnConnect: true });
  server.on('error', (e: NodeJS.ErrnoException) => {
    const msg: RelayListenerMessage = { error: `${e.code ?? ''} ${e.message}`.trim() };
    process.send!(msg, undefined, undefined, () => process.exit(1));
  });
  server.listen({ host: config.host, port: config.port, exclusive: true }, () => {
    const msg: RelayListenerMessage = { address: server.address() };
    process.send!(msg, server, undefined, () => {
      server.close();
      process.disconnect();
    });
  });
}

if (isMainModule(import.meta.url)) main();
