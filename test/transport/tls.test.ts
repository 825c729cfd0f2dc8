// TLS and mutual TLS on the HTTP, gRPC and health listeners, with certificates this test makes
// with openssl: TLS answers, plaintext is refused, mutual TLS refuses a client without a
// certificate, and a rewritten certificate is served to new connections without a restart.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { pino } from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcTransport } from '../../sdk/src/grpc/index.js';
import { createHttpTransport, type FetchLike } from '../../sdk/src/http/index.js';
import { GatehouseClient } from '../../sdk/src/index.js';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { fixturePolicySet } from '../service/fixture.js';
import { PATIENT_MS } from '../support/wait-until.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
const path = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

beforeAll(() => {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=gatehouse-test-ca',
    '-days',
    '2',
  );
  for (const [name, cn, usage] of [
    ['server-1', 'gatehouse-1', 'serverAuth'],
    ['server-2', 'gatehouse-2', 'serverAuth'],
    ['client', 'my-app', 'clientAuth'],
  ] as const) {
    writeFileSync(
      path(`${name}.ext`),
      `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\n`,
    );
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  // The files the server is pointed at; rotation rewrites them.
  copyFileSync(path('server-1.crt'), path('tls.crt'));
  copyFileSync(path('server-1.key'), path('tls.key'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startServer(tls: GatehouseConfig['tls']): Promise<GatehouseServer> {
  const set = fixturePolicySet();
  return GatehouseServer.start({
    config: {
      ...DEFAULT_CONFIG,
      http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      health: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      fileReloadMs: 25,
      tls,
    },
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger: pino({ level: 'silent' }),
  });
}

const pem = (name: string): Buffer => readFileSync(path(name));

/** The SDK over gRPC with TLS; `client` adds the client certificate. */
function grpcClient(server: GatehouseServer, client = false): GatehouseClient {
  return new GatehouseClient(
    createGrpcTransport({
      address: server.grpcAddress,
      tls: {
        rootCerts: pem('ca.crt'),
        ...(client ? { privateKey: pem('client.key'), certChain: pem('client.crt') } : {}),
      },
    }),
    // Generous: a handshake on a loaded machine must not turn into DEADLINE_EXCEEDED.
    { retries: false, defaultTimeoutMs: 60_000 },
  );
}

/** The SDK over HTTPS through an undici Agent trusting the test CA; `client` adds the client certificate. */
function httpClient(server: GatehouseServer, client = false): { client: GatehouseClient; agent: Agent } {
  const agent = new Agent({
    connect: {
      ca: pem('ca.crt'),
      ...(client ? { key: pem('client.key'), cert: pem('client.crt') } : {}),
    },
  });
  const transport = createHttpTransport({
    baseUrl: `https://${server.httpAddress}`,
    fetch: undiciFetch as unknown as FetchLike,
    dispatcher: agent,
  });
  return { client: new GatehouseClient(transport, { retries: false, defaultTimeoutMs: 60_000 }), agent };
}

const CHECK = 'document:plan#view@user:alice';

/** The CN of the certificate a listener presents to a new connection. */
function presentedCn(address: string, alpn?: string): Promise<string> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host, port, ca: pem('ca.crt'), ALPNProtocols: alpn === undefined ? undefined : [alpn] },
      () => {
        const cn = socket.getPeerCertificate().subject.CN;
        socket.destroy();
        resolve(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
      },
    );
    socket.on('error', reject);
  });
}

function healthStatus(server: GatehouseServer, path: string): Promise<number> {
  const address = server.healthAddress!;
  return new Promise((resolve, reject) => {
    httpsGet(`https://${address}${path}`, { ca: pem('ca.crt') }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('TLS', () => {
  let server: GatehouseServer;
  beforeAll(async () => {
    server = await startServer({ cert: path('tls.crt'), key: path('tls.key') });
  });
  afterAll(() => server.stop(1000));

  it('answers the SDK over gRPC and HTTPS, and serves the health listener over HTTPS', async () => {
    const grpc = grpcClient(server);
    const http = httpClient(server);
    try {
      expect((await grpc.check(CHECK)).allowed).toBe(true);
      expect((await http.client.check(CHECK)).allowed).toBe(true);
      expect(await healthStatus(server, '/readyz')).toBe(200);
    } finally {
      await grpc.close();
      await http.agent.close();
    }
  });

  it('refuses plaintext on every listener', async () => {
    const plainGrpc = new GatehouseClient(createGrpcTransport({ address: server.grpcAddress }), {
      retries: false,
    });
    try {
      await expect(plainGrpc.check(CHECK, { timeoutMs: 3000 })).rejects.toThrow();
    } finally {
      await plainGrpc.close();
    }
    for (const address of [server.httpAddress, server.healthAddress!]) {
      await expect(fetch(`http://${address}/readyz`)).rejects.toThrow();
    }
  });

  it('serves a rewritten certificate to new connections, without a restart', async () => {
    expect(await presentedCn(server.httpAddress)).toBe('gatehouse-1');
    expect(await presentedCn(server.grpcAddress, 'h2')).toBe('gatehouse-1');
    // cert-manager writes the files one after the other; a half-written pair is never served.
    copyFileSync(path('server-2.crt'), path('tls.crt'));
    copyFileSync(path('server-2.key'), path('tls.key'));
    await waitFor(async () => (await presentedCn(server.httpAddress)) === 'gatehouse-2');
    await waitFor(async () => (await presentedCn(server.grpcAddress, 'h2')) === 'gatehouse-2');
    await waitFor(async () => (await presentedCn(server.healthAddress!)) === 'gatehouse-2');
    const grpc = grpcClient(server);
    try {
      expect((await grpc.check(CHECK)).allowed).toBe(true);
    } finally {
      await grpc.close();
    }
  });
});

describe('mutual TLS', () => {
  let server: GatehouseServer;
  beforeAll(async () => {
    copyFileSync(path('server-1.crt'), path('mtls.crt'));
    copyFileSync(path('server-1.key'), path('mtls.key'));
    server = await startServer({ cert: path('mtls.crt'), key: path('mtls.key'), clientCa: path('ca.crt') });
  });
  afterAll(() => server.stop(1000));

  it('answers clients presenting a certificate the client CA signed', async () => {
    const grpc = grpcClient(server, true);
    const http = httpClient(server, true);
    try {
      expect((await grpc.check(CHECK)).allowed).toBe(true);
      expect((await http.client.check(CHECK)).allowed).toBe(true);
    } finally {
      await grpc.close();
      await http.agent.close();
    }
  });

  it('refuses clients without a certificate on the API listeners, not on the health listener', async () => {
    const grpc = grpcClient(server, false);
    const http = httpClient(server, false);
    try {
      await expect(grpc.check(CHECK, { timeoutMs: 3000 })).rejects.toThrow();
      await expect(http.client.check(CHECK, { timeoutMs: 3000 })).rejects.toThrow();
    } finally {
      await grpc.close();
      await http.agent.close();
    }
    // The kubelet's probes cannot present a certificate.
    expect(await healthStatus(server, '/healthz')).toBe(200);
  });
});

describe('TLS files at start', () => {
  it('refuse to start with a key that does not match the certificate', async () => {
    await expect(startServer({ cert: path('server-1.crt'), key: path('server-2.key') })).rejects.toThrow(
      /do not make a valid certificate/,
    );
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = PATIENT_MS): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
