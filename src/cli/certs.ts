// `sluice certs`: mint a private CA with server and client certificates for TLS, and show
// what a certificate folder holds (names, fingerprints, expiry) so an operator can check it.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, IoError } from '../errors.js';
import { parsePositiveInt } from '../util/units.js';
import type { CertSummary } from '../net/certs.js';
import { runAction } from './run-action.js';

const WARN_DAYS = 30;

export function register(program: Command): void {
  const certs = program
    .command('certs')
    .description('Create and inspect the certificates used by TLS transport.');

  certs
    .command('init')
    .description('Create a CA, a server certificate and a client certificate in a folder.')
    .requiredOption('--dir <dir>', 'folder to write the certificates and keys into')
    .option(
      '--hosts <list>',
      'comma-separated DNS names and IPs for the server',
      'localhost,127.0.0.1',
    )
    .option('--days <n>', 'validity of every certificate in days', '365')
    .option('--client-name <name>', 'common name of the client certificate', 'sluice-client')
    .action(
      runAction('certs init', async (opts: InitFlags) => {
        const days = parsePositiveInt(opts.days, 'certs init --days');
        const hosts = opts.hosts.split(',').map((h) => h.trim());
        // Loaded on use: the X.509 library is large and most commands never need it.
        const { CERT_FILES, initCerts } = await import('../net/certs.js');
        const result = await initCerts({ dir: opts.dir, hosts, days, clientName: opts.clientName });
        for (const f of result.files) process.stdout.write(`wrote ${f}\n`);
        process.stdout.write(
          `Private keys (*-key.pem) have mode 0600. Serve with --cert ${join(opts.dir, CERT_FILES.serverCert)} ` +
            `--key ${join(opts.dir, CERT_FILES.serverKey)}; clients trust ${join(opts.dir, CERT_FILES.caCert)}.\n`,
        );
      }),
    );

  certs
    .command('show')
    .description('Print subject, names, SHA-256 fingerprint and expiry of each certificate.')
    .argument('<path>', 'a certificate folder or one PEM file')
    .option('--json', 'print one JSON object per certificate')
    .action(
      runAction('certs show', async (path: string, opts: { json?: boolean }) => {
        const { daysLeft, readCertSummaries } = await import('../net/certs.js');
        const summaries: CertSummary[] = [];
        for (const file of certificateFiles(path))
          summaries.push(...(await readCertSummaries(file)));
        if (summaries.length === 0) throw new IoError(`no certificates found in ${path}.`);
        let expiring = 0;
        for (const s of summaries) {
          const left = daysLeft(s);
          if (left < WARN_DAYS) expiring++;
          process.stdout.write(
            opts.json ? `${JSON.stringify(toJson(s, left))}\n` : describe(s, left),
          );
        }
        if (expiring > 0) {
          process.stderr.write(
            `sluice certs show: warning: ${expiring} certificate(s) expire within ${WARN_DAYS} days.\n`,
          );
        }
      }),
    );
}

interface InitFlags {
  dir: string;
  hosts: string;
  days: string;
  clientName: string;
}

/** PEM files in a folder that are not keys, or the one file given. */
function certificateFiles(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new IoError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isDir) return [path];
  const files = readdirSync(path)
    .filter((f) => /\.(pem|crt|cer)$/i.test(f) && !/key/i.test(f))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new ConfigError(`${path} holds no .pem/.crt files.`);
  return files;
}

function describe(s: CertSummary, left: number): string {
  const expiry =
    left < 0
      ? 'EXPIRED'
      : left < WARN_DAYS
        ? `WARNING: expires in ${Math.floor(left)} days`
        : `${Math.floor(left)} days left`;
  return (
    `${s.file}\n` +
    `  subject:     ${s.subject}${s.isCa ? ' (CA)' : ''}\n` +
    `  issuer:      ${s.issuer}\n` +
    `  names:       ${s.names.length > 0 ? s.names.join(', ') : '(none)'}\n` +
    `  sha256:      ${s.fingerprint256}\n` +
    `  valid from:  ${s.validFrom.toISOString()}\n` +
    `  expires:     ${s.validTo.toISOString()} (${expiry})\n`
  );
}

function toJson(s: CertSummary, left: number) {
  return {
    file: s.file,
    subject: s.subject,
    issuer: s.issuer,
    names: s.names,
    sha256: s.fingerprint256,
    valid_from: s.validFrom.toISOString(),
    expires: s.validTo.toISOString(),
    days_left: Math.floor(left),
    ca: s.isCa,
  };
}
