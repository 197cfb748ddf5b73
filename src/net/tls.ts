// TLS for sluice's network transport: a TLS 1.3-only server whose certificate can be replaced
// while it runs (SIGHUP or a change to the files), and a client connector that verifies the
// server's chain and name by default. Verification is OpenSSL's; nothing here re-implements it.

import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP, type AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { watch, type FSWatcher } from 'chokidar';
import { ConfigError, IoError } from '../errors.js';
import { counter, gauge } from '../telemetry/metrics.js';
import { componentLogger } from '../telemetry/logger.js';

const TLS13 = 'TLSv1.3' as const;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const RELOAD_DEBOUNCE_MS = 250;
const EXPIRY_WARN_MS = 30 * 86_400_000;

const log = componentLogger('tls');
const handshakeFailures = counter(
  'sluice_tls_handshake_failures_total',
  'TLS handshakes refused by the server, by reason.',
  ['reason'],
);
const reloads = counter(
  'sluice_tls_reloads_total',
  'Certificate reloads of the TLS server, by result (ok, failed).',
  ['result'],
);
const certExpiry = gauge(
  'sluice_tls_cert_expiry_seconds',
  'Seconds until the TLS server certificate in use expires.',
);
const insecureConnections = counter(
  'sluice_tls_insecure_connections_total',
  'Client connections made with --insecure, without verifying the server certificate.',
);

export interface TlsServerOptions {
  /** PEM certificate (chain) the server presents. */
  certFile: string;
  /** PEM private key; refused when group or others can read it. */
  keyFile: string;
  /** PEM CA bundle that client certificates must chain to (mutual TLS). */
  caFile?: string;
  /** Refuse clients that present no certificate from caFile. */
  requireClientCert?: boolean;
  /** Time a peer has to finish the handshake. */
  handshakeTimeoutMs?: number;
  /** Reload the certificate on SIGHUP and when the files change (default true). */
  watchFiles?: boolean;
}

/** Called with each connection that completed its handshake; `peer` is tls://ADDR:PORT. */
export type SecureConnectionHandler = (socket: tls.TLSSocket, peer: string) => void;

export interface TlsListener {
  readonly server: tls.Server;
  /** Where the server listens (the real port when 0 was asked for). */
  address(): AddressInfo;
  /** Re-reads the files; keeps the old certificate and returns false when they are unusable. */
  reload(): boolean;
  /** Stops accepting, stops watching; open connections are left to their owner. */
  close(): Promise<void>;
}

/** Refuses a private key that group or others can read (RELIABILITY.md S5). */
export function checkKeyPermissions(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new IoError(`TLS key ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8);
    throw new ConfigError(
      `TLS key ${path} has mode ${octal}; group and others must have no access (chmod 600).`,
    );
  }
}

interface ContextFiles {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new IoError(`TLS ${what} ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Reads the files and proves they make a context (a key that matches its certificate). */
function loadContext(options: TlsServerOptions): ContextFiles {
  checkKeyPermissions(options.keyFile);
  const files: ContextFiles = {
    cert: readPem(options.certFile, 'certificate'),
    key: readPem(options.keyFile, 'key'),
  };
  if (options.caFile) files.ca = readPem(options.caFile, 'CA bundle');
  try {
    tls.createSecureContext({ ...files, minVersion: TLS13, maxVersion: TLS13 });
  } catch (err) {
    throw new ConfigError(
      `TLS certificate ${options.certFile} and key ${options.keyFile} cannot be used together: ` +
        `${(err as Error).message}`,
      { cause: err },
    );
  }
  noteExpiry(options.certFile, files.cert);
  return files;
}

function noteExpiry(certFile: string, pem: Buffer): void {
  let validTo: number;
  try {
    validTo = Date.parse(new X509Certificate(pem).validTo);
  } catch {
    return;
  }
  const leftMs = validTo - Date.now();
  certExpiry.set(Math.round(leftMs / 1000));
  if (leftMs < EXPIRY_WARN_MS) {
    log.warn(
      { cert: certFile, expires: new Date(validTo).toISOString() },
      leftMs < 0 ? 'TLS certificate has expired.' : 'TLS certificate expires within 30 days.',
    );
  }
}

/** The server half of a reload: all options that change with the files. */
function contextOptions(files: ContextFiles): tls.SecureContextOptions {
  return { ...files, minVersion: TLS13, maxVersion: TLS13 };
}

function peerOf(socket: { remoteAddress?: string; remotePort?: number }): string {
  const addr = socket.remoteAddress ?? 'unknown';
  const host = addr.includes(':') ? `[${addr}]` : addr;
  return `tls://${host}:${socket.remotePort ?? 0}`;
}

/** A short, stable reason for a refused handshake, for the metric label. */
function refusalReason(err: NodeJS.ErrnoException, socket: tls.TLSSocket): string {
  const text = `${err.code ?? ''} ${err.message}`;
  if (/UNSUPPORTED_PROTOCOL|VERSION|unsupported protocol/i.test(text)) return 'protocol_version';
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|did not return a certificate/i.test(text)) {
    return 'no_client_cert';
  }
  // A TLS 1.3 client certificate is checked after the handshake messages; Node then closes
  // the socket and reports a hang-up, leaving the verification result on the socket.
  if (socket.authorizationError || /CERTIFICATE|unknown ca|verify/i.test(text)) {
    return 'bad_client_cert';
  }
  if (/timed? ?out/i.test(text)) return 'timeout';
  if (/ECONNRESET|hang up/i.test(text)) return 'client_aborted';
  return 'other';
}

/**
 * The peer of a socket whose handshake failed. By then the TLS socket has lost its handle,
 * so the address is read from the TCP socket it wraps, whose address was cached on accept.
 */
function failedPeer(socket: tls.TLSSocket): string {
  const parent = (
    socket as unknown as { _parent?: { remoteAddress?: string; remotePort?: number } }
  )._parent;
  return peerOf(socket.remoteAddress ? socket : (parent ?? socket));
}

/**
 * Creates a TLS 1.3-only server (not yet listening). Handshake failures are logged with the
 * peer's address and counted; completed connections go to `onConnection`.
 */
export function createTlsServer(
  options: TlsServerOptions,
  onConnection: SecureConnectionHandler,
): { server: tls.Server; reload: () => boolean; stopWatching: () => Promise<void> } {
  if (options.requireClientCert && !options.caFile) {
    throw new ConfigError('TLS --require-client-cert needs --ca, the CA that signs clients.');
  }
  const files = loadContext(options);
  const server = tls.createServer({
    ...contextOptions(files),
    requestCert: options.requireClientCert === true,
    rejectUnauthorized: true,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    // With requestCert the handshake already failed for an unauthorised peer; this is the
    // belt to that brace, so no path hands an unverified client to the collector.
    if (options.requireClientCert && !socket.authorized) {
      handshakeFailures.inc({ reason: 'bad_client_cert' });
      log.warn({ peer: peerOf(socket) }, 'TLS client not authorised; connection closed.');
      socket.destroy();
      return;
    }
    onConnection(socket, peerOf(socket));
  });
  // Reading the address once on accept caches it on the TCP socket for failedPeer().
  server.on('connection', (raw: { remoteAddress?: string }) => void raw.remoteAddress);
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    const reason = refusalReason(err, socket);
    handshakeFailures.inc({ reason });
    const detail = socket.authorizationError ? String(socket.authorizationError) : err.message;
    // A client that hangs up mid-handshake was not refused; it is counted, logged quietly.
    const level = reason === 'client_aborted' ? 'debug' : 'warn';
    log[level]({ peer: failedPeer(socket), reason, error: detail }, 'TLS handshake refused.');
  });

  const reload = (): boolean => {
    try {
      server.setSecureContext(contextOptions(loadContext(options)));
      reloads.inc({ result: 'ok' });
      log.info({ cert: options.certFile }, 'TLS certificate reloaded.');
      return true;
    } catch (err) {
      reloads.inc({ result: 'failed' });
      log.error(
        { cert: options.certFile, error: (err as Error).message },
        'TLS certificate reload failed; the previous certificate stays in use.',
      );
      return false;
    }
  };
  const stopWatching =
    options.watchFiles === false ? async () => {} : watchForReload(options, reload);
  return { server, reload, stopWatching };
}

/** Reloads on SIGHUP and on changes to the files, debounced so a cert+key pair lands together. */
function watchForReload(options: TlsServerOptions, reload: () => boolean): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      reload();
    }, RELOAD_DEBOUNCE_MS);
  };
  const onHup = () => {
    log.info('SIGHUP received; reloading the TLS certificate.');
    reload();
  };
  process.on('SIGHUP', onHup);
  const paths = [options.certFile, options.keyFile, ...(options.caFile ? [options.caFile] : [])];
  const watcher: FSWatcher = watch(paths, { ignoreInitial: true, persistent: false });
  watcher.on('add', schedule).on('change', schedule);
  watcher.on('error', (err) => log.warn({ error: String(err) }, 'TLS file watch failed.'));
  return async () => {
    if (timer) clearTimeout(timer);
    process.off('SIGHUP', onHup);
    await watcher.close();
  };
}

/** Creates the server and listens on host:port; resolves once listening. */
export async function listenTls(
  options: TlsServerOptions & { host: string; port: number },
  onConnection: SecureConnectionHandler,
): Promise<TlsListener> {
  const { server, reload, stopWatching } = createTlsServer(options, onConnection);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new IoError(`TLS cannot listen on ${options.host}:${options.port}: ${err.message}`));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return {
    server,
    address: () => server.address() as AddressInfo,
    reload,
    close: async () => {
      await stopWatching();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TlsClientOptions {
  /** PEM CA bundle to trust instead of the system store. */
  caFile?: string;
  /** Client certificate and key for mutual TLS. */
  certFile?: string;
  keyFile?: string;
  /** Skip verification of the server's chain and name; warns on every connection. */
  insecure?: boolean;
  /** Name to verify and send as SNI when it differs from the host dialled. */
  servername?: string;
  handshakeTimeoutMs?: number;
}

/** Opens one connection; the shipper calls it for every (re)connect. */
export type TlsConnector = (host: string, port: number) => Promise<tls.TLSSocket>;

/**
 * Returns a connector that opens TLS 1.3 connections. The chain and the server name are
 * verified unless `insecure` is set. Files are read on each connect, so rotated client
 * certificates are picked up by the next reconnect.
 */
export function createTlsConnector(options: TlsClientOptions = {}): TlsConnector {
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw new ConfigError('TLS client: --cert and --key must be given together.');
  }
  // Fail at start, not at the first connect, when a file is missing or a key is exposed.
  if (options.keyFile) checkKeyPermissions(options.keyFile);
  clientSecureOptions(options);
  return (host, port) => connectTls(host, port, options);
}

function clientSecureOptions(options: TlsClientOptions): tls.ConnectionOptions {
  const secure: tls.ConnectionOptions = { minVersion: TLS13, maxVersion: TLS13 };
  if (options.caFile) secure.ca = readPem(options.caFile, 'CA bundle');
  if (options.certFile && options.keyFile) {
    secure.cert = readPem(options.certFile, 'certificate');
    secure.key = readPem(options.keyFile, 'key');
  }
  return secure;
}

function connectTls(host: string, port: number, options: TlsClientOptions) {
  const name = options.servername ?? host;
  const connectOptions: tls.ConnectionOptions = {
    ...clientSecureOptions(options),
    host,
    port,
    // SNI may not carry an IP address (RFC 6066); verification still checks IP SANs.
    servername: isIP(name) ? undefined : name,
    // Explicit boolean: an undefined here once meant "accept anything" (CVE-2021-22939).
    rejectUnauthorized: options.insecure !== true,
  };
  if (isIP(name) && name !== host) {
    connectOptions.checkServerIdentity = (_h, cert) => tls.checkServerIdentity(name, cert);
  }
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const socket = tls.connect(connectOptions);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new IoError(`TLS handshake with ${host}:${port} timed out after ${timeoutMs} ms.`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      if (options.insecure) {
        insecureConnections.inc();
        log.warn(
          { peer: `${host}:${port}`, authorizationError: String(socket.authorizationError ?? '') },
          'TLS connection made with --insecure: the server certificate was NOT verified.',
        );
      }
      resolve(socket);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      log.warn({ peer: `${host}:${port}`, error: err.message }, 'TLS connection failed.');
      reject(
        new IoError(`TLS connection to ${host}:${port} failed: ${err.message}`, { cause: err }),
      );
    };
    socket.once('error', onError);
  });
}

/** Parses HOST:PORT, [IPv6]:PORT or tls://HOST:PORT. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const bare = text.replace(/^tls:\/\//, '');
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(bare);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`${what}: got ${JSON.stringify(text)}; expected HOST:PORT.`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
