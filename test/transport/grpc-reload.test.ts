// ReloadPolicies over gRPC against a real server reloading a policy directory on disk: a valid
// change is served, an unchanged one says so, an invalid one is refused with file:line:column
// problems while the old policies keep answering, one that would orphan stored relationships is
// refused with the list, and the admin scope is enforced. The SDK's
// reloadPolicies is exercised over both transports against the same server.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcTransport } from '../../sdk/src/grpc/index.js';
import { createHttpTransport } from '../../sdk/src/http/index.js';
import { GatehouseClient, InvalidArgumentError, PermissionDeniedError } from '../../sdk/src/index.js';
import { DEFAULT_CONFIG } from '../../server/src/config/config.js';
import { loadPolicySet } from '../../server/src/policy/index.js';
import { PolicyReloader } from '../../server/src/service/policy-reload.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { DATA_YAML, fixturePolicySet, SCHEMA_YAML } from '../service/fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON; the assertions check their shape
type Any = Record<string, any>;
interface Answer {
  readonly res?: Any;
  readonly err?: grpc.ServiceError;
}

const ADMIN = 'tok-admin-reload-0123456789';
const CHECKER = 'tok-check-reload-0123456789';
const READER = 'tok-read-reload-0123456789';
const WRITER = 'tok-write-reload-0123456789';
/** The fixture schema with one more permission on documents. */
const WITH_COMMENT = SCHEMA_YAML.replace(
  '      edit: owner\n',
  '      edit: owner\n      comment: viewer or owner\n',
);

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-grpc-reload-'));
let server: GatehouseServer;
let client: grpc.Client & Any;

beforeAll(async () => {
  writeFileSync(join(dir, 'schema.yaml'), SCHEMA_YAML);
  writeFileSync(join(dir, 'data.yaml'), DATA_YAML);
  writeFileSync(join(dir, 'tokens'), `${ADMIN} admin\n${CHECKER} check\n${READER} read\n${WRITER} write\n`);
  const set = fixturePolicySet();
  server = await GatehouseServer.start({
    config: {
      ...DEFAULT_CONFIG,
      http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      tokenFile: join(dir, 'tokens'),
    },
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger: pino({ level: 'silent' }),
  });
  // As `serve` wires it: reloads read the policy directory again.
  server.service.setReloader(
    new PolicyReloader({ service: server.service, load: () => loadPolicySet(join(dir, 'policies')) }),
  );
  const pkg = grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: String, enums: String, oneofs: true }),
  ) as Any;
  client = new pkg.gatehouse.v1.GatehouseService(server.grpcAddress, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.stop(1000);
  rmSync(dir, { recursive: true, force: true });
});

/** Rewrite the policy directory reloads read (apart from the token file) with `schema`. */
function writePolicies(schema: string): void {
  const policies = join(dir, 'policies');
  mkdirSync(policies, { recursive: true });
  writeFileSync(join(policies, 'schema.yaml'), schema);
  writeFileSync(join(policies, 'data.yaml'), DATA_YAML);
}

/** A schema unlike any served before: the fixture with one more, uniquely named, permission. */
let variant = 0;
const freshSchema = (): string =>
  SCHEMA_YAML.replace('      edit: owner\n', `      edit: owner\n      share${++variant}: owner\n`);

function call(method: string, req: Any, token?: string): Promise<Answer> {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client[method](req, md, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: Any) =>
      resolve(err === null ? { res } : { err }),
    );
  });
}

const commentCheck = {
  resource: { objectType: 'document', objectId: 'plan' },
  permission: 'comment',
  subject: { object: { objectType: 'user', objectId: 'alice' } },
};

describe('ReloadPolicies over gRPC', () => {
  it('serves a valid change, and answers unchanged when the files are the same', async () => {
    const before = server.service.policyHash;
    expect((await call('Check', commentCheck, CHECKER)).err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    writePolicies(WITH_COMMENT);

    const { res, err } = await call('ReloadPolicies', {}, ADMIN);
    expect(err).toBeUndefined();
    expect(res).toEqual({ result: 'success', policyHash: server.service.policyHash, previousHash: before });
    expect(res?.policyHash).not.toBe(before);
    const allowed = await call('Check', commentCheck, CHECKER);
    expect(allowed.res?.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');

    const again = await call('ReloadPolicies', {}, ADMIN);
    expect(again.res).toEqual({
      result: 'unchanged',
      policyHash: res?.policyHash,
      previousHash: res?.policyHash,
    });
  });

  it('refuses invalid policies with every problem positioned, and keeps serving the old ones', async () => {
    const serving = server.service.policyHash;
    writePolicies(`${WITH_COMMENT}      broken: nosuchrelation\n`);

    const { err } = await call('ReloadPolicies', {}, ADMIN);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.metadata.get('gatehouse-error-code')).toEqual(['INVALID_ARGUMENT']);
    expect(err?.details).toMatch(/schema\.yaml:\d+:\d+: .*nosuchrelation/);
    expect(server.service.policyHash).toBe(serving);
    expect(server.service.readiness().lastReloadError).toMatch(/nosuchrelation/);
    const schema = await call('ReadSchema', {}, READER);
    expect(schema.res?.schemaHash).toBe(serving);
    expect((await call('Check', commentCheck, CHECKER)).res?.permissionship).toBe(
      'PERMISSIONSHIP_HAS_PERMISSION',
    );
  });

  it('refuses a schema that would orphan stored relationships, listing them', async () => {
    const serving = server.service.policyHash;
    const written = await call(
      'WriteRelationships',
      {
        updates: [
          {
            operation: 'OPERATION_TOUCH',
            relationship: {
              resource: { objectType: 'document', objectId: 'memo' },
              relation: 'viewer',
              subject: { object: { objectType: 'user', objectId: '*' } },
            },
          },
        ],
      },
      WRITER,
    );
    expect(written.err).toBeUndefined();
    // The same schema without the public (user:*) viewer: the stored `viewer@user:*` has no place.
    writePolicies(
      SCHEMA_YAML.replace(
        'types: user or user:* or group#member\n        if_emptied_by_delete: user:*\n',
        'types: user or group#member\n',
      ),
    );
    const { err } = await call('ReloadPolicies', {}, ADMIN);
    expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err?.details).toContain('document:memo#viewer@user:*');
    expect(server.service.policyHash).toBe(serving);
  });

  it('needs a token with the admin scope', async () => {
    const before = server.service.policyHash;
    writePolicies(freshSchema());
    const unauthenticated = await call('ReloadPolicies', {});
    expect(unauthenticated.err?.code).toBe(grpc.status.UNAUTHENTICATED);
    const denied = await call('ReloadPolicies', {}, CHECKER);
    expect(denied.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(denied.err?.details).toContain("'admin' scope");
    // Neither refused call reloaded anything.
    expect(server.service.policyHash).toBe(before);
  });
});

// Generous deadline: a reload under a loaded machine may take seconds; it only bounds a hang.
const sdkOver = (name: 'gRPC' | 'HTTP', token: string): GatehouseClient =>
  new GatehouseClient(
    name === 'gRPC'
      ? createGrpcTransport({ address: server.grpcAddress, token })
      : createHttpTransport({ baseUrl: `http://${server.httpAddress}`, token }),
    { defaultTimeoutMs: 60_000 },
  );

describe.each(['gRPC', 'HTTP'] as const)('the SDK reloadPolicies over %s', (name) => {
  it('reloads, reports unchanged, and maps a refusal to a typed error', async () => {
    const sdk = sdkOver(name, ADMIN);
    try {
      const serving = server.service.policyHash;
      writePolicies(freshSchema());
      const reloaded = await sdk.reloadPolicies();
      expect(reloaded).toEqual({
        result: 'success',
        policyHash: server.service.policyHash,
        previousHash: serving,
      });
      expect(await sdk.reloadPolicies()).toMatchObject({ result: 'unchanged' });

      writePolicies(`${WITH_COMMENT}      broken: nosuchrelation\n`);
      const refused = await sdk.reloadPolicies().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InvalidArgumentError);
      expect((refused as Error).message).toMatch(/schema\.yaml:\d+:\d+: /);
      expect(server.service.policyHash).toBe(reloaded.policyHash);
    } finally {
      await sdk.close();
    }
  });

  it('is refused without the admin scope', async () => {
    const sdk = sdkOver(name, CHECKER);
    try {
      await expect(sdk.reloadPolicies()).rejects.toBeInstanceOf(PermissionDeniedError);
    } finally {
      await sdk.close();
    }
  });
});
