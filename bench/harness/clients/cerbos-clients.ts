// Load clients for Cerbos's CheckResources over HTTP (/api/check/resources) and gRPC
// (cerbos.svc.v1.CerbosService), sending the pre-built request of each question. Only single
// checks: the comparison with Cerbos is about one decision per call.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { LoadClient, LoadSpec, Operation } from '../types.js';
import { grpcAddress } from './grpc-client.js';
import { createPool } from './http-pool.js';

const PROTO = fileURLToPath(new URL('../../peers/cerbos/cerbos-check.proto', import.meta.url));
const DECIDED = new Set(['EFFECT_ALLOW', 'EFFECT_DENY']);

/** Throws unless the response decides the one `view` action asked; returns 1. */
function expectDecision(body: unknown): number {
  const results = (body as { results?: Array<{ actions?: Record<string, unknown> }> } | null)?.results;
  const effect = results?.[0]?.actions?.view;
  if (results?.length !== 1 || typeof effect !== 'string' || !DECIDED.has(effect)) {
    throw new Error(`cerbos answer without a decision: ${JSON.stringify(body)?.slice(0, 160)}`);
  }
  return 1;
}

function payloadsOf(spec: LoadSpec): readonly unknown[] {
  if (spec.payloads === undefined || spec.payloads.length === 0)
    throw new Error('a cerbos load spec needs payloads');
  if (spec.operation !== 'check')
    throw new Error(`cerbos load supports only 'check', not '${spec.operation}'`);
  return spec.payloads;
}

export function createCerbosHttpClient(spec: LoadSpec): LoadClient {
  const payloads = payloadsOf(spec);
  const pool = createPool(spec.endpoint, spec.concurrency);
  const bodies = payloads.map((p) => JSON.stringify(p));
  const headers = { 'content-type': 'application/json' };
  return {
    async call(_operation: Operation, index: number): Promise<number> {
      const res = await pool.request({
        method: 'POST',
        path: '/api/check/resources',
        headers,
        body: bodies[index % bodies.length]!,
        headersTimeout: spec.timeoutMs,
        bodyTimeout: spec.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200)
        throw new Error(`HTTP ${res.statusCode} from cerbos: ${text.slice(0, 160)}`);
      return expectDecision(JSON.parse(text));
    },
    async close(): Promise<void> {
      await pool.close();
    },
  };
}

type CheckResources = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => void;

export function createCerbosGrpcClient(spec: LoadSpec): LoadClient {
  const payloads = payloadsOf(spec);
  const definition = protoLoader.loadSync(PROTO, {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    cerbos: { svc: { v1: { CerbosService: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.cerbos.svc.v1.CerbosService(
    grpcAddress(spec),
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    checkResources: CheckResources;
  };
  return {
    call(_operation: Operation, index: number): Promise<number> {
      return new Promise((resolve, reject) => {
        client.checkResources(
          payloads[index % payloads.length],
          { deadline: Date.now() + spec.timeoutMs },
          (err, response) => {
            if (err)
              reject(new Error(`gRPC ${grpc.status[err.code] ?? err.code} from cerbos: ${err.details}`));
            else {
              try {
                resolve(expectDecision(response));
              } catch (e) {
                reject(e);
              }
            }
          },
        );
      });
    },
    async close(): Promise<void> {
      client.close();
    },
  };
}
