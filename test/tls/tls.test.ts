import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { initCerts } from '../../src/net/certs.js';
import {
  createTlsConnector,
  listenTls,
  parseHostPort,
  type TlsListener,
} from '../../src/net/tls.js';
import { metricValue } from '../../src/telemetry/metrics.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('sluice-tls-');
const main = join(dir.path, 'main');
const other = join(dir.path, 'other');
const next = join(dir.path, 'next');
const live = join(dir.path, 'live');

/** An echo handler: proves a connection reached the collector side and still carries data. */
function echo(accepted: string[]) {
  return (socket: TLSSocket, peer: string) => {
    accepted.push(peer);
    socket.on('data', (b) => socket.write(b));
    socket.on('error', () => {});
  };
}

function roundTrip(socket: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (b: Buffer) => resolve(b.toString('utf8')));
    socket.once('error', reject);
    socket.write(text);
  });
}

/** Resolves when the socket ends or errors, with the error if any. */
function closed(socket: TLSSocket): Promise<Error | undefined> {
  return new Promise((resolve) => {
    socket.once('error', (err) => resolve(err));
    socket.once('close', () => resolve(undefined));
  });
}

function runOpenssl(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', () => resolve({ code: -1, out: 'openssl not runnable' }));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

before(async () => {
  const hosts = ['localhost', '127.0.0.1'];
  await initCerts({ dir: main, hosts, days: 30 });
  await initCerts({ dir: other, hosts, days: 30 });
  await initCerts({ dir: next, hosts, days: 30 });
  await initCerts({ dir: live, hosts, days: 30 });
});
after(() => dir.cleanup());

describe('tls server', () => {
  let listener: TlsListener;
  let port: number;
  const accepted: string[] = [];
  before(async () => {
    listener = await listenTls(
      {
        host: '127.0.0.1',
        port: 0,
        certFile: join(main, 'server.pem'),
        keyFile: join(main, 'server-key.pem'),
        watchFiles: false,
      },
      echo(accepted),
    );
    port = listener.address().port;
  });
  after(() => listener.close());

  test('tls - a verified TLS 1.3 client connects and carries data', async () => {
    const socket = await createTlsConnector({ caFile: join(main, 'ca.pem') })('127.0.0.1', port);
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    assert.equal(await roundTrip(socket, 'hello\n'), 'hello\n');
    socket.destroy();
  });

  test('tls - openssl s_client -tls1_2 is refused, -tls1_3 is accepted', async (t) => {
    const common = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', join(main, 'ca.pem')];
    const old = await runOpenssl([...common, '-tls1_2']);
    if (old.code === -1) {
      t.skip('openssl is not installed');
      return;
    }
    assert.notEqual(old.code, 0, old.out);
    assert.match(old.out, /alert protocol version|unsupported protocol|wrong version/i);
    const ok = await runOpenssl([...common, '-tls1_3']);
    assert.match(ok.out, /TLSv1\.3/);
    assert.match(ok.out, /Verify return code: 0 \(ok\)/);
    assert.ok((await metricValue('sluice_tls_handshake_failures_total')) >= 1);
  });

  test('tls - a client trusting another CA is refused', async () => {
    const connect = createTlsConnector({ caFile: join(other, 'ca.pem') });
    await assert.rejects(connect('127.0.0.1', port), /certificate/i);
  });

  test('tls - name verification fails for a wrong name', async () => {
    const connect = createTlsConnector({
      caFile: join(main, 'ca.pem'),
      servername: 'wrong.example.com',
    });
    await assert.rejects(connect('127.0.0.1', port), /wrong\.example\.com|altnames/i);
  });

  test('tls - --insecure connects to an untrusted server and counts it', async () => {
    const before = await metricValue('sluice_tls_insecure_connections_total');
    const socket = await createTlsConnector({ caFile: join(other, 'ca.pem'), insecure: true })(
      '127.0.0.1',
      port,
    );
    assert.equal(socket.authorized, false);
    assert.equal(await metricValue('sluice_tls_insecure_connections_total'), before + 1);
    socket.destroy();
  });
});

describe('tls mutual', () => {
  let listener: TlsListener;
  let port: number;
  const accepted: string[] = [];
  before(async () => {
    listener = await listenTls(
      {
        host: '127.0.0.1',
        port: 0,
        certFile: join(main, 'server.pem'),
        keyFile: join(main, 'server-key.pem'),
        caFile: join(main, 'ca.pem'),
        requireClientCert: true,
        watchFiles: false,
      },
      echo(accepted),
    );
    port = listener.address().port;
  });
  after(() => listener.close());

  test('tls - mutual TLS accepts a client certificate from the CA', async () => {
    const socket = await createTlsConnector({
      caFile: join(main, 'ca.pem'),
      certFile: join(main, 'client.pem'),
      keyFile: join(main, 'client-key.pem'),
    })('127.0.0.1', port);
    assert.equal(await roundTrip(socket, 'ok\n'), 'ok\n');
    socket.destroy();
  });

  for (const [label, creds] of [
    ['a client certificate from another CA', { certDir: other }],
    ['no client certificate', { certDir: undefined }],
  ] as const) {
    test(`tls - mutual TLS refuses ${label}`, async () => {
      const count = accepted.length;
      const failuresBefore = {
        bad_client_cert: await metricValue('sluice_tls_handshake_failures_total', {
          reason: 'bad_client_cert',
        }),
        no_client_cert: await metricValue('sluice_tls_handshake_failures_total', {
          reason: 'no_client_cert',
        }),
      };
      const connect = createTlsConnector({
        caFile: join(main, 'ca.pem'),
        ...(creds.certDir
          ? {
              certFile: join(creds.certDir, 'client.pem'),
              keyFile: join(creds.certDir, 'client-key.pem'),
            }
          : {}),
      });
      // In TLS 1.3 the client finishes its side before the server checks the certificate,
      // so the refusal arrives either as a failed connect or as an alert right after it.
      let error: Error | undefined;
      try {
        const socket = await connect('127.0.0.1', port);
        socket.write('must not arrive\n');
        error = await closed(socket);
      } catch (err) {
        error = err as Error;
      }
      // Node may report the refusal as an alert error or as a plain close; either way no byte
      // reached the collector handler and the server counted a refused handshake.
      if (error) assert.match(String(error), /certificate|alert|ECONNRESET|socket/i);
      assert.equal(accepted.length, count, 'the collector handler was never called');
      const reason = creds.certDir ? 'bad_client_cert' : 'no_client_cert';
      await waitFor(
        async () =>
          (await metricValue('sluice_tls_handshake_failures_total', { reason })) >
          failuresBefore[reason],
      );
    });
  }
});

describe('tls reload', () => {
  test('tls - SIGHUP serves the new certificate to new connections; old ones continue', async () => {
    const certFile = join(live, 'server.pem');
    const keyFile = join(live, 'server-key.pem');
    const bundle = join(dir.path, 'both-ca.pem');
    writeFileSync(bundle, '');
    for (const d of [live, next]) writeFileSync(bundle, readCa(d), { flag: 'a' });
    const accepted: string[] = [];
    const listener = await listenTls(
      { host: '127.0.0.1', port: 0, certFile, keyFile },
      echo(accepted),
    );
    try {
      const port = listener.address().port;
      const connect = createTlsConnector({ caFile: bundle });
      const first = await connect('127.0.0.1', port);
      const oldPrint = first.getPeerCertificate().fingerprint256;

      copyFileSync(join(next, 'server.pem'), certFile);
      copyFileSync(join(next, 'server-key.pem'), keyFile);
      chmodSync(keyFile, 0o600);
      const reloadsBefore = await metricValue('sluice_tls_reloads_total', { result: 'ok' });
      process.kill(process.pid, 'SIGHUP');
      await waitFor(
        async () =>
          (await metricValue('sluice_tls_reloads_total', { result: 'ok' })) > reloadsBefore,
      );

      const second = await connect('127.0.0.1', port);
      const newPrint = second.getPeerCertificate().fingerprint256;
      assert.notEqual(newPrint, oldPrint);
      assert.equal(await roundTrip(first, 'still here\n'), 'still here\n');
      assert.equal(await roundTrip(second, 'new\n'), 'new\n');

      // A broken key keeps the certificate in use and counts a failed reload.
      writeFileSync(keyFile, 'not a key\n', { mode: 0o600 });
      assert.equal(listener.reload(), false);
      const third = await connect('127.0.0.1', port);
      assert.equal(third.getPeerCertificate().fingerprint256, newPrint);
      for (const s of [first, second, third]) s.destroy();
    } finally {
      await listener.close();
    }
  });

  test('tls - a key readable by others is refused at start', async () => {
    const keyFile = join(dir.path, 'open-key.pem');
    copyFileSync(join(main, 'server-key.pem'), keyFile);
    chmodSync(keyFile, 0o644);
    await assert.rejects(
      listenTls(
        { host: '127.0.0.1', port: 0, certFile: join(main, 'server.pem'), keyFile },
        () => {},
      ),
      /mode 644/,
    );
  });
});

test('tls - parseHostPort reads IPv4, names and bracketed IPv6', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:6514', 't'), { host: '127.0.0.1', port: 6514 });
  assert.deepEqual(parseHostPort('tls://collector:1', 't'), { host: 'collector', port: 1 });
  assert.deepEqual(parseHostPort('[::1]:6514', 't'), { host: '::1', port: 6514 });
  assert.throws(() => parseHostPort('nohost', 't'), /expected HOST:PORT/);
  assert.throws(() => parseHostPort('h:70000', 't'), /expected HOST:PORT/);
});

function readCa(d: string): string {
  return `${readFileSync(join(d, 'ca.pem'), 'utf8')}\n`;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}
