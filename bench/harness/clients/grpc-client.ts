// The gRPC load client: one grpc-js channel (HTTP/2 multiplexes the in-flight calls), dialled
// over loopback TCP or `unix:` path. Any non-OK status or malformed answer rejects the call.
import * as grpc from '@grpc/grpc-js';
import { loadGatehouseService } from '../proto.js';
import type { LoadClient, LoadSpec, Operation } from '../types.js';
import {
  batchRequest,
  checkRequest,
  expectBatchResponse,
  expectCheckResponse,
  expectLookupPage,
  lookupRequest,
} from '../wire.js';

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => void;
type StreamMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

export function grpcAddress(spec: LoadSpec): string {
  return spec.endpoint.kind === 'tcp'
    ? `${spec.endpoint.host}:${spec.endpoint.port}`
    : `unix:${spec.endpoint.path}`;
}

export function createGrpcClient(spec: LoadSpec): LoadClient {
  const Service = loadGatehouseService();
  const client = new Service(grpcAddress(spec), grpc.credentials.createInsecure()) as unknown as grpc.Client &
    Record<string, UnaryMethod & StreamMethod>;
  const metadata = new grpc.Metadata();
  if (spec.token !== undefined) metadata.set('authorization', `Bearer ${spec.token}`);

  function unary(method: 'check' | 'checkBatch', request: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      client[method]!(request, metadata, { deadline: Date.now() + spec.timeoutMs }, (err, response) => {
        if (err) reject(new Error(`gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}`));
        else resolve(response);
      });
    });
  }

  function lookup(request: unknown): Promise<number> {
    return new Promise((resolve, reject) => {
      let ids = 0;
      const stream = client.lookupResources!(request, metadata, { deadline: Date.now() + spec.timeoutMs });
      stream.on('data', (page: unknown) => {
        try {
          ids += expectLookupPage(page).ids;
        } catch (err) {
          stream.cancel();
          reject(err);
        }
      });
      stream.on('error', (err: grpc.ServiceError) =>
        reject(new Error(`gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}`)),
      );
      stream.on('end', () => resolve(ids));
    });
  }

  const { questions } = spec;
  return {
    async call(operation: Operation, index: number): Promise<number> {
      const q = questions[index % questions.length]!;
      switch (operation) {
        case 'check':
          expectCheckResponse(await unary('check', checkRequest(q)));
          return 1;
        case 'batch':
          return expectBatchResponse(
            await unary('checkBatch', batchRequest(questions, index * spec.batchSize, spec.batchSize)),
            spec.batchSize,
          );
        case 'lookup':
          return lookup(lookupRequest(q, spec.lookupPageSize, ''));
      }
    },
    async close(): Promise<void> {
      client.close();
    },
  };
}
