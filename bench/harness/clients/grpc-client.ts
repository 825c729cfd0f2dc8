// The gRPC load client: one grpc-js channel (HTTP/2 multiplexes the in-flight calls), dialled
// over loopback TCP or `unix:` path. Requests are encoded once per distinct question (as ghz and
// k6 do) so the generator's CPU, shared with the server on 2 cores, goes to the wire, not to
// building messages; every answer is still decoded and checked. Any non-OK status or malformed
// answer rejects the call.
import * as grpc from '@grpc/grpc-js';
import { gatehouseProtobufRoot, PERMISSIONSHIP } from '../proto.js';
import type { LoadClient, LoadSpec, Operation } from '../types.js';
import { batchRequest, checkRequest, lookupRequest } from '../wire.js';

const PATH = '/gatehouse.v1.GatehouseService/';
const passBytes = (b: Buffer): Buffer => b;

export function grpcAddress(spec: LoadSpec): string {
  return spec.endpoint.kind === 'tcp'
    ? `${spec.endpoint.host}:${spec.endpoint.port}`
    : `unix:${spec.endpoint.path}`;
}

function isDecision(p: unknown): boolean {
  return p === PERMISSIONSHIP.hasPermission || p === PERMISSIONSHIP.noPermission;
}

export function createGrpcClient(spec: LoadSpec): LoadClient {
  const root = gatehouseProtobufRoot();
  const types = {
    check: [root.lookupType('gatehouse.v1.CheckRequest'), root.lookupType('gatehouse.v1.CheckResponse')],
    checkBatch: [
      root.lookupType('gatehouse.v1.CheckBatchRequest'),
      root.lookupType('gatehouse.v1.CheckBatchResponse'),
    ],
    lookup: [
      root.lookupType('gatehouse.v1.LookupResourcesRequest'),
      root.lookupType('gatehouse.v1.LookupResourcesResponse'),
    ],
  } as const;
  const client = new grpc.Client(grpcAddress(spec), grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (spec.token !== undefined) metadata.set('authorization', `Bearer ${spec.token}`);
  const { questions } = spec;
  const checkBytes = new Map<number, Buffer>();
  const batchBytes = new Map<number, Buffer>();

  const encoded = (cache: Map<number, Buffer>, key: number, make: () => Buffer): Buffer => {
    let b = cache.get(key);
    if (b === undefined) {
      b = make();
      cache.set(key, b);
    }
    return b;
  };

  function unary(method: 'Check' | 'CheckBatch', bytes: Buffer): Promise<Record<string, unknown>> {
    const response = (method === 'Check' ? types.check : types.checkBatch)[1];
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        PATH + method,
        passBytes,
        (b: Buffer) => response.decode(b) as unknown as Record<string, unknown>,
        bytes,
        metadata,
        { deadline: Date.now() + spec.timeoutMs },
        (err, value) => {
          if (err) reject(new Error(`gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}`));
          else resolve(value!);
        },
      );
    });
  }

  function lookup(bytes: Buffer): Promise<number> {
    const response = types.lookup[1];
    return new Promise((resolve, reject) => {
      let ids = 0;
      const stream = client.makeServerStreamRequest(
        `${PATH}LookupResources`,
        passBytes,
        (b: Buffer) => response.decode(b) as unknown as { resourceObjectIds?: unknown },
        bytes,
        metadata,
        { deadline: Date.now() + spec.timeoutMs },
      );
      stream.on('data', (page: { resourceObjectIds?: unknown }) => {
        if (!Array.isArray(page.resourceObjectIds)) {
          stream.cancel();
          reject(new Error('lookup answer without ids'));
        } else ids += page.resourceObjectIds.length;
      });
      stream.on('error', (err: grpc.ServiceError) =>
        reject(new Error(`gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}`)),
      );
      stream.on('end', () => resolve(ids));
    });
  }

  return {
    async call(operation: Operation, index: number): Promise<number> {
      const qi = index % questions.length;
      switch (operation) {
        case 'check': {
          const bytes = encoded(checkBytes, qi, () =>
            Buffer.from(types.check[0].encode(checkRequest(questions[qi]!)).finish()),
          );
          const r = await unary('Check', bytes);
          if (!isDecision(r.permissionship)) throw new Error('check answer without a decision');
          return 1;
        }
        case 'batch': {
          const start = (index * spec.batchSize) % questions.length;
          const bytes = encoded(batchBytes, start, () =>
            Buffer.from(types.checkBatch[0].encode(batchRequest(questions, start, spec.batchSize)).finish()),
          );
          const r = await unary('CheckBatch', bytes);
          const results = r.results as { permissionship?: unknown }[] | undefined;
          if (!Array.isArray(results) || results.length !== spec.batchSize) {
            throw new Error(
              `batch answer has ${results?.length ?? 'no'} results, expected ${spec.batchSize}`,
            );
          }
          for (const item of results) {
            if (!isDecision(item.permissionship)) throw new Error('batch item without a decision');
          }
          return spec.batchSize;
        }
        case 'lookup':
          return lookup(
            Buffer.from(
              types.lookup[0].encode(lookupRequest(questions[qi]!, spec.lookupPageSize, '')).finish(),
            ),
          );
      }
    },
    async close(): Promise<void> {
      client.close();
    },
  };
}
