// The TLS flags shared by `sluice serve` and `sluice ship`, kept here so those commands gain
// TLS with a few option lines and one call each; the TLS logic itself is in net/tls.ts.

import type { Socket } from 'node:net';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { componentLogger } from '../telemetry/logger.js';
import { createTlsConnector, listenTls, parseHostPort, type TlsListener } from '../net/tls.js';

export interface ServeTlsFlags {
  tls?: string;
  cert?: string;
  key?: string;
  ca?: string;
  requireClientCert?: boolean;
}

export function addServeTlsOptions(command: Command): Command {
  return command
    .option('--tls <host:port>', 'also listen for TLS 1.3 here (needs --cert and --key)')
    .option('--cert <file>', 'TLS server certificate (PEM); reloaded on SIGHUP and change')
    .option('--key <file>', 'TLS server private key (PEM, mode 0600)')
    .option('--ca <file>', 'CA bundle that client certificates must chain to')
    .option('--require-client-cert', 'mutual TLS: refuse clients without a certificate from --ca');
}

/** Starts the TLS listener when --tls is given; handshaken sockets go to the collector. */
export async function startServeTls(
  flags: ServeTlsFlags,
  collector: { handleConnection(socket: Socket, transport?: string): void },
): Promise<TlsListener | undefined> {
  if (!flags.tls) {
    if (flags.cert || flags.key || flags.requireClientCert) {
      throw new ConfigError('--cert, --key and --require-client-cert need --tls HOST:PORT.');
    }
    return undefined;
  }
  if (!flags.cert || !flags.key) throw new ConfigError('--tls needs --cert FILE and --key FILE.');
  const { host, port } = parseHostPort(flags.tls, '--tls');
  const listener = await listenTls(
    {
      host,
      port,
      certFile: flags.cert,
      keyFile: flags.key,
      caFile: flags.ca,
      requireClientCert: flags.requireClientCert === true,
    },
    (socket) => collector.handleConnection(socket, 'tls'),
  );
  const bound = listener.address();
  componentLogger('serve').info(
    {
      transport: 'tls',
      host: bound.address,
      port: bound.port,
      mutual: flags.requireClientCert === true,
    },
    'Listening.',
  );
  return listener;
}

export interface ShipTlsFlags {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  servername?: string;
}

export function addShipTlsOptions(command: Command): Command {
  return command
    .option('--ca <file>', 'tls://: CA bundle to trust instead of the system store')
    .option('--cert <file>', 'tls://: client certificate for mutual TLS')
    .option('--key <file>', 'tls://: client private key (PEM, mode 0600)')
    .option('--servername <name>', 'tls://: name to verify when it differs from the host')
    .option('--insecure', 'tls://: do NOT verify the server certificate (warns every connection)');
}

/** For a tls:// target: host, port and a verifying TLS 1.3 connector. */
export function tlsTarget(url: string, flags: ShipTlsFlags) {
  const { host, port } = parseHostPort(url, '--to');
  if (port === 0) throw new ConfigError(`--to: "${url}" needs a port above 0.`);
  const connector = createTlsConnector({
    caFile: flags.ca,
    certFile: flags.cert,
    keyFile: flags.key,
    insecure: flags.insecure === true,
    servername: flags.servername,
  });
  return { host, port, connector };
}
