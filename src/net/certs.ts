// Certificates for sluice's TLS transport: a private certificate authority, a server
// certificate carrying the names clients will dial, and a client certificate for mutual TLS.
// Generated in-process with @peculiar/x509 on WebCrypto (ECDSA P-256, SHA-256), so no openssl
// binary is needed. Private keys are written once with mode 0600 and never printed.

import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
// @peculiar/x509 2.x resolves its services through tsyringe, which needs a Reflect metadata
// polyfill loaded first (its README says so); without it the import throws.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ConfigError, IoError } from '../errors.js';

type ProviderCrypto = Parameters<typeof x509.cryptoProvider.set>[0];
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as ProviderCrypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** File names inside a certificate folder, shared by `certs init`, `certs show` and the docs. */
export const CERT_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
} as const;

export interface CertsInitOptions {
  dir: string;
  /** DNS names and IP addresses the server certificate is valid for. */
  hosts: string[];
  /** Validity of every certificate, in days from now. */
  days: number;
  /** Common name of the client certificate. */
  clientName?: string;
}

export interface CertsInitResult {
  files: string[];
}

/** Creates the CA, server and client certificates; refuses to overwrite existing files. */
export async function initCerts(options: CertsInitOptions): Promise<CertsInitResult> {
  if (options.hosts.length === 0) {
    throw new ConfigError('certs init: --hosts needs at least one name or address.');
  }
  await fsp.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const paths = Object.values(CERT_FILES).map((f) => join(options.dir, f));
  for (const p of paths) {
    if (await exists(p)) {
      throw new IoError(`certs init: ${p} already exists; remove it or choose another --dir.`);
    }
  }
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + options.days * DAY_MS);
  const ca = await makeCa(notBefore, notAfter);
  const server = await makeLeaf(ca, {
    cn: options.hosts[0] ?? 'localhost',
    sans: options.hosts.map(generalName),
    usage: x509.ExtendedKeyUsage.serverAuth,
    notBefore,
    notAfter,
  });
  const client = await makeLeaf(ca, {
    cn: options.clientName ?? 'sluice-client',
    sans: [{ type: 'dns', value: options.clientName ?? 'sluice-client' }],
    usage: x509.ExtendedKeyUsage.clientAuth,
    notBefore,
    notAfter,
  });
  const d = options.dir;
  await writeCert(join(d, CERT_FILES.caCert), ca.cert);
  await writeKey(join(d, CERT_FILES.caKey), ca.keys.privateKey);
  await writeCert(join(d, CERT_FILES.serverCert), server.cert);
  await writeKey(join(d, CERT_FILES.serverKey), server.keys.privateKey);
  await writeCert(join(d, CERT_FILES.clientCert), client.cert);
  await writeKey(join(d, CERT_FILES.clientKey), client.keys.privateKey);
  return { files: paths };
}

interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

async function makeCa(notBefore: Date, notAfter: Date): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=sluice CA',
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

interface LeafSpec {
  cn: string;
  sans: x509.JsonGeneralName[];
  usage: x509.ExtendedKeyUsage;
  notBefore: Date;
  notAfter: Date;
}

async function makeLeaf(ca: Issued, spec: LeafSpec): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeDn(spec.cn)}`,
    issuer: ca.cert.subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([spec.usage]),
      new x509.SubjectAlternativeNameExtension(spec.sans),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { cert, keys };
}

function generalName(host: string): x509.JsonGeneralName {
  const h = host.trim();
  if (h.length === 0) throw new ConfigError('certs init: --hosts has an empty entry.');
  return isIP(h) ? { type: 'ip', value: h } : { type: 'dns', value: h };
}

function escapeDn(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
}

/** A positive random 128-bit serial (the high bit cleared so DER keeps it positive). */
function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function writeCert(path: string, cert: x509.X509Certificate): Promise<void> {
  await writeNew(path, `${cert.toString('pem')}\n`, 0o644);
}

async function writeKey(path: string, key: CryptoKey): Promise<void> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  await writeNew(path, `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`, 0o600);
}

/** Creates the file exclusively with its final mode, so a key is never briefly world-readable. */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, 'wx', mode);
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    throw new IoError(`certs: cannot write ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await handle?.close();
  }
}

export interface CertSummary {
  file: string;
  subject: string;
  issuer: string;
  names: string[];
  fingerprint256: string;
  validFrom: Date;
  validTo: Date;
  isCa: boolean;
}

/** Reads every certificate in a PEM file (a chain yields several). */
export async function readCertSummaries(file: string): Promise<CertSummary[]> {
  let pem: string;
  try {
    pem = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new IoError(`cannot read certificate file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => {
    let cert: NodeX509;
    try {
      cert = new NodeX509(block);
    } catch (err) {
      throw new IoError(`${file} holds a certificate that cannot be parsed.`, {
        cause: err,
      });
    }
    return {
      file,
      subject: cert.subject.replace(/\n/g, ', '),
      issuer: cert.issuer.replace(/\n/g, ', '),
      names: (cert.subjectAltName ?? '').split(/,\s*/).filter((s) => s.length > 0),
      fingerprint256: cert.fingerprint256,
      validFrom: new Date(cert.validFrom),
      validTo: new Date(cert.validTo),
      isCa: cert.ca,
    };
  });
}

/** Days until a certificate expires (negative once it has). */
export function daysLeft(summary: CertSummary, now = Date.now()): number {
  return (summary.validTo.getTime() - now) / DAY_MS;
}
