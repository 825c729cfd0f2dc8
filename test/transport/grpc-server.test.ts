// The gRPC adapter against a real server on port 0, driven by a raw grpc-js client built from
// the proto with proto-loader (independent of the server's protobufjs codecs): every method,
// status codes and trailers, deadlines, message size, health and reflection.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { encodeRevisionToken } from '../../server/src/service/revision-token.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { GRPC_STATUS } from '../../server/src/transport/grpc/errors.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { fixturePolicySet, SCHEMA_YAML, TOKEN } from '../service/fixture.js';
import { LaggingStore } from '../service/lagging-store.js';
import { askReflection } from './reflection-client.js';

const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;
// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON; the assertions check their shape
type Any = Record<string, any>;
type Unary = (
  req: Any,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: Any) => void,
) => grpc.ClientUnaryCall;

let server: GatehouseServer;
let store: LaggingStore;
let client: grpc.Client & Any;
let address: string;

beforeAll(async () => {
  const set = fixturePolicySet();
  store = new LaggingStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)));
  const config: GatehouseConfig = {
    ...DEFAULT_CONFIG,
    http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    token: TOKEN,
    // Checks and reads open, as a deployer may choose; every scope is tested in auth-scopes.test.ts.
    openScopes: ['check', 'read'],
    limits: { ...DEFAULT_CONFIG.limits, maxBodyBytes: 4096, maxBatchSize: 5 },
  };
  server = await GatehouseServer.start({
    config,
    schema: set.schema,
    store,
    logger: pino({ level: 'silent' }),
  });
  address = server.grpcAddress;
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS)) as Any;
  client = new pkg.gatehouse.v1.GatehouseService(address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.stop(1000);
});

function call(
  method: string,
  req: Any,
  options: { token?: string; md?: Record<string, string>; deadlineMs?: number } = {},
) {
  const md = new grpc.Metadata();
  if (options.token !== undefined) md.set('authorization', `Bearer ${options.token}`);
  for (const [k, v] of Object.entries(options.md ?? {})) md.set(k, v);
  const opts: grpc.CallOptions = { deadline: Date.now() + (options.deadlineMs ?? 30_000) };
  return new Promise<{ res?: Any; err?: grpc.ServiceError; headers?: grpc.Metadata }>((resolve) => {
    let headers: grpc.Metadata | undefined;
    const c = (client[method] as Unary).call(client, req, md, opts, (err, res) =>
      resolve(err === null ? { res, headers } : { err, headers }),
    );
    c.on('metadata', (m) => {
      headers = m;
    });
  });
}

function collect(
  method: string,
  req: Any,
  token?: string,
): Promise<{ messages: Any[]; err?: grpc.ServiceError }> {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  const stream = client[method](req, md) as grpc.ClientReadableStream<Any>;
  const messages: Any[] = [];
  return new Promise((resolve) => {
    stream.on('data', (m: Any) => messages.push(m));
    stream.on('error', (err: grpc.ServiceError) => resolve({ messages, err }));
    stream.on('end', () => resolve({ messages }));
  });
}

const ref = (t: string, id: string) => ({ objectType: t, objectId: id });
const subj = (t: string, id: string) => ({ object: ref(t, id) });
const check = (perm: string, user: string) => ({
  resource: ref('document', 'plan'),
  permission: perm,
  subject: subj('user', user),
});

describe('GatehouseService over gRPC', () => {
  it('Check answers and echoes x-request-id in response metadata', async () => {
    const { res, headers } = await call('Check', check('view', 'alice'), {
      md: { 'x-request-id': 'abc-123' },
    });
    expect(res?.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
    expect(res?.checkedAt.token).toMatch(/^GH2\./);
    expect(headers?.get('x-request-id')).toEqual(['abc-123']);
    expect((await call('Check', check('edit', 'alice'))).res?.permissionship).toBe(
      'PERMISSIONSHIP_NO_PERMISSION',
    );
  });

  it('maps INVALID_ARGUMENT with the field and code in trailers', async () => {
    const { err } = await call('Check', check('fly', 'alice'));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/fly/);
    expect(err?.metadata.get('gatehouse-error-field')).toEqual(['permission']);
    expect(err?.metadata.get('gatehouse-error-code')).toEqual(['INVALID_ARGUMENT']);
  });

  it('CheckBatch answers in order with per-item errors; RESOURCE_EXHAUSTED over the limit', async () => {
    const { res } = await call('CheckBatch', {
      items: [check('view', 'alice'), check('nope', 'alice'), check('edit', 'bob')],
    });
    expect(res?.results.map((r: Any) => r.permissionship ?? r.error.code)).toEqual([
      'PERMISSIONSHIP_HAS_PERMISSION',
      'INVALID_ARGUMENT',
      'PERMISSIONSHIP_HAS_PERMISSION',
    ]);
    const { err } = await call('CheckBatch', {
      items: Array.from({ length: 6 }, () => check('view', 'alice')),
    });
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('LookupResources streams one message per page', async () => {
    const { messages, err } = await collect('LookupResources', {
      resourceObjectType: 'document',
      permission: 'view',
      subject: subj('user', 'alice'),
      pageSize: 1,
    });
    expect(err).toBeUndefined();
    expect(messages.length).toBe(2);
    expect(messages.flatMap((m) => m.resourceObjectIds).sort()).toEqual(['plan', 'readme']);
    expect(messages[1]?.nextCursor).toBe('');
    const bad = await collect('LookupResources', {
      resourceObjectType: 'nope',
      permission: 'view',
      subject: subj('user', 'alice'),
    });
    expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('LookupSubjects, Explain and ReadSchema', async () => {
    const subjects = (
      await call('LookupSubjects', {
        resource: ref('document', 'plan'),
        permission: 'view',
        subjectObjectType: 'user',
      })
    ).res;
    expect(subjects?.subjectObjectIds.sort()).toEqual(['alice', 'bob']);
    const explain = (await call('Explain', check('view', 'alice'))).res;
    expect(explain?.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
    expect(explain?.root.result).toBe(true);
    const schema = (await call('ReadSchema', {})).res;
    expect(schema?.schemaHash).toBe(server.service.schema.hash);
  });

  it('writes need the token; they commit, read back and stream through Watch', async () => {
    const update = {
      operation: 'OPERATION_TOUCH',
      relationship: { resource: ref('document', 'plan'), relation: 'viewer', subject: subj('user', 'carol') },
    };
    expect((await call('WriteRelationships', { updates: [update] })).err?.code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    // Start from the current revision, so the write below is seen however late the stream opens.
    const watch = client.Watch(
      {
        optionalStartCursor: {
          token: encodeRevisionToken(server.service.revision, server.service.replicaStatus().identity),
        },
      },
      (() => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${TOKEN}`);
        return md;
      })(),
    ) as grpc.ClientReadableStream<Any>;
    const firstChange = new Promise<Any>((resolve) => watch.once('data', resolve));
    watch.on('error', () => undefined);
    const written = (await call('WriteRelationships', { updates: [update] }, { token: TOKEN })).res;
    expect(written?.writtenAt.token).toMatch(/^GH2\./);
    const change = await firstChange;
    expect(change.changes[0].operation).toBe('OPERATION_INSERT');
    expect(change.changesThrough.token).toBe(written?.writtenAt.token);
    watch.cancel();

    const read = (
      await call(
        'ReadRelationships',
        { filter: { resourceType: 'document', optionalResourceId: 'plan' } },
        { token: TOKEN },
      )
    ).res;
    expect(read?.relationships.map((r: Any) => r.subject.object.objectId)).toContain('carol');
    const del = (
      await call(
        'DeleteRelationships',
        { filter: { resourceType: 'document', optionalSubjectType: 'user', optionalSubjectId: 'carol' } },
        { token: TOKEN },
      )
    ).res;
    expect(del?.deletedCount).toBe('1');
    const obj = (await call('DeleteObject', { object: ref('user', 'bob') }, { token: TOKEN })).res;
    expect(obj?.deletedCount).toBe('2');
  });

  it('ValidatePolicies returns problems with positions', async () => {
    const ok = (
      await call('ValidatePolicies', { files: [{ path: 's.yaml', content: SCHEMA_YAML }] }, { token: TOKEN })
    ).res;
    expect(ok?.valid).toBe(true);
    const bad = (
      await call(
        'ValidatePolicies',
        { files: [{ path: 's.yaml', content: 'kind: nope\n' }] },
        { token: TOKEN },
      )
    ).res;
    expect(bad?.valid).toBe(false);
    expect(bad?.problems[0].file).toBe('s.yaml');
  });

  it('answers DEADLINE_EXCEEDED when a consistency wait outlives the deadline', async () => {
    store.held = true;
    const change = await store.write([
      {
        operation: 'touch',
        relationship: {
          resource: { type: 'document', id: 'plan' },
          relation: 'viewer',
          subject: { type: 'user', id: 'late' },
        },
      },
    ]);
    expect(server.service.revision).toBe(change.revision - 1);
    const { err } = await call(
      'Check',
      {
        ...check('view', 'late'),
        consistency: {
          atLeastAsFresh: { token: encodeRevisionToken(change.revision, await store.identity()) },
        },
      },
      { deadlineMs: 100 },
    );
    expect(err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    store.release();
    expect((await call('Check', check('view', 'late'))).res?.permissionship).toBe(
      'PERMISSIONSHIP_HAS_PERMISSION',
    );
  });

  it('maps every domain code to its gRPC status; ALREADY_EXISTS end to end', async () => {
    expect(GRPC_STATUS).toEqual({
      INVALID_ARGUMENT: 3,
      NOT_FOUND: 5,
      ALREADY_EXISTS: 6,
      FAILED_PRECONDITION: 9,
      RESOURCE_EXHAUSTED: 8,
      DEADLINE_EXCEEDED: 4,
      UNAUTHENTICATED: 16,
      PERMISSION_DENIED: 7,
      UNAVAILABLE: 14,
      ABORTED: 10,
      INTERNAL: 13,
      CANCELLED: 1,
    });
    const create = {
      operation: 'OPERATION_CREATE',
      relationship: {
        resource: ref('document', 'readme'),
        relation: 'viewer',
        subject: { object: ref('group', 'staff'), optionalRelation: 'member' },
      },
    };
    const { err } = await call('WriteRelationships', { updates: [create] }, { token: TOKEN });
    expect(err?.code).toBe(grpc.status.ALREADY_EXISTS);
  });

  it('refuses a message over the configured size with RESOURCE_EXHAUSTED', async () => {
    const { err } = await call('Check', { ...check('view', 'alice'), permission: 'p'.repeat(5000) });
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });
});

describe('standard services', () => {
  it('grpc.health.v1 reports SERVING for the server and GatehouseService', async () => {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, LOADER_OPTIONS)) as Any;
    const health = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
    for (const service of ['', 'gatehouse.v1.GatehouseService']) {
      const res = await new Promise<Any>((resolve, reject) =>
        health.Check({ service }, (err: Error | null, r: Any) => (err === null ? resolve(r) : reject(err))),
      );
      expect(res.status).toBe('SERVING');
    }
    health.close();
  });

  async function askOne(request: Any): Promise<Any> {
    const [answer] = await askReflection(address, [request]);
    return answer as Any;
  }

  it('server reflection lists GatehouseService', async () => {
    const res = await askOne({ listServices: '' });
    expect(res.listServicesResponse.service.map((s: Any) => s.name)).toContain(
      'gatehouse.v1.GatehouseService',
    );
  });

  // What grpcurl asks before a call: the file descriptor that defines a symbol. It is built by the
  // reflection library's protobufjs descriptor extension, so this also guards the one shared
  // protobufjs the package overrides pin (package.json `overrides`).
  it('server reflection describes GatehouseService with its methods', async () => {
    const res = await askOne({ fileContainingSymbol: 'gatehouse.v1.GatehouseService' });
    const files: Buffer[] = res.fileDescriptorResponse.fileDescriptorProto;
    expect(files.length).toBeGreaterThan(0);
    const { FileDescriptorProto } = (await import('protobufjs/ext/descriptor/index.js')) as Any;
    const decoded = files.map((bytes) => FileDescriptorProto.decode(bytes));
    const gatehouse = decoded.find((f: Any) => f.package === 'gatehouse.v1');
    const service = gatehouse?.service.find((s: Any) => s.name === 'GatehouseService');
    const methods = service?.method.map((m: Any) => m.name) ?? [];
    expect(methods).toEqual(expect.arrayContaining(['Check', 'CheckBatch', 'WriteRelationships', 'Watch']));
  });
});
