// One-off answers from a running Gatehouse for the correctness gate: CheckBatch over HTTP and
// single Checks over gRPC, through the same request builders the load clients use.
import * as grpc from '@grpc/grpc-js';
import { createPool } from '../harness/clients/http-pool.js';
import { loadGatehouseService } from '../harness/proto.js';
import type { Endpoint, Question } from '../harness/types.js';
import { batchRequest, checkRequest } from '../harness/wire.js';
import type { GateParticipant } from './gate.js';

const HAS = 'PERMISSIONSHIP_HAS_PERMISSION';

export function httpParticipant(system: string, endpoint: Endpoint): GateParticipant {
  return {
    system,
    async answer(questions) {
      const pool = createPool(endpoint, 1);
      try {
        const answers: boolean[] = [];
        for (let start = 0; start < questions.length; start += 100) {
          const size = Math.min(100, questions.length - start);
          const res = await pool.request({
            method: 'POST',
            path: '/v1/check/batch',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batchRequest(questions, start, size)),
          });
          const text = await res.body.text();
          if (res.statusCode !== 200)
            throw new Error(`${system}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
          const body = JSON.parse(text) as { results: Array<{ permissionship?: string; error?: unknown }> };
          for (const r of body.results) {
            if (r.permissionship === undefined)
              throw new Error(`${system}: batch item failed: ${JSON.stringify(r)}`);
            answers.push(r.permissionship === HAS);
          }
        }
        return answers;
      } finally {
        await pool.close();
      }
    },
  };
}

export function grpcParticipant(system: string, endpoint: Endpoint): GateParticipant {
  return {
    system,
    async answer(questions) {
      const Service = loadGatehouseService();
      const address = endpoint.kind === 'tcp' ? `${endpoint.host}:${endpoint.port}` : `unix:${endpoint.path}`;
      const client = new Service(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
        check(
          request: unknown,
          callback: (err: grpc.ServiceError | null, response: { permissionship: string }) => void,
        ): void;
      };
      try {
        const one = (q: Question): Promise<boolean> =>
          new Promise((resolve, reject) =>
            client.check(checkRequest(q), (err, response) =>
              err ? reject(new Error(`${system}: ${err.message}`)) : resolve(response.permissionship === HAS),
            ),
          );
        const answers: boolean[] = [];
        for (const q of questions) answers.push(await one(q));
        return answers;
      } finally {
        client.close();
      }
    },
  };
}
