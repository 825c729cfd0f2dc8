// What Gatehouse's own gRPC handler costs per call, without the transport: the Check and
// CheckBatch handlers (protobufjs decode, wire decode, validation, engine, encode, metrics)
// called in-process with grpc-js's call object faked, alternated with the echo floor's handler
// (decode, constant answer, encode). The gap between the two is all the server work that
// separates Gatehouse from the bare grpc-js echo in bench/RESULTS.md, measured without the
// 2-core box's scheduling noise.
//
//   npx tsx --expose-gc bench/grpc/handler-bench.ts [--size 10000] [--calls 200000] [--rounds 5]

import { parseArgs } from 'node:util';
import { Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import pino from 'pino';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { MemoryStore } from '../../server/src/store/memory-store.js';
import { gatehouseHandlers } from '../../server/src/transport/grpc/handlers.js';
import { gatehouseProto } from '../../server/src/transport/grpc/proto.js';
import { gatehouseServiceDefinition } from '../../server/src/transport/grpc/service-definition.js';
import { parseSize } from '../datasets/dataset.js';
import { createDataset } from '../datasets/index.js';
import { batchRequest, checkRequest } from '../harness/wire.js';
import { compileDatasetSchema } from '../suite/gatehouse-engine.js';

type Message = Record<string, unknown>;
type Handler = (call: ServerUnaryCall<Message, Message>, callback: sendUnaryData<Message>) => void;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    calls: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '100' },
  },
});
const callsOption = Number(values.calls);
const rounds = Number(values.rounds);

const dataset = await createDataset('group-visibility', { relationships: parseSize(values.size!), seed: 7 });
const schema = compileDatasetSchema(dataset);
const store = MemoryStore.withRelationships(
  (function* () {
    for (const r of dataset.relationships()) yield parseRelationship(r);
  })(),
);
const service = await GatehouseService.create({ schema, store, limits: DEFAULT_LIMITS });
const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
const handlers = gatehouseHandlers({
  service,
  metrics: new GatehouseMetrics(service),
  logger,
  defaultDeadlineMs: 5000,
}) as unknown as Record<string, Handler>;
const definition = gatehouseServiceDefinition(gatehouseProto());

const questions = dataset.sampleChecks(1000);
const ALLOWED = { permissionship: 1 };
const echo: Record<string, Handler> = {
  Check: (_call, callback) => callback(null, ALLOWED),
  CheckBatch: (call, callback) =>
    callback(null, { results: ((call.request.items as unknown[]) ?? []).map(() => ALLOWED) }),
};

/** Request bytes as the client sends them, one per question (or batch). */
function requests(method: 'Check' | 'CheckBatch'): Buffer[] {
  const def = definition[method]!;
  const batch = Number(values.batch);
  return questions.map((q, i) =>
    def.requestSerialize(method === 'Check' ? checkRequest(q) : batchRequest(questions, i, batch)),
  );
}

/**
 * Per-call CPU nanoseconds of deserialize → handler → serialize, awaited in chunks of 64:
 * `--calls` Check calls, or a tenth as many CheckBatch calls (each of --batch items).
 */
async function time(
  method: 'Check' | 'CheckBatch',
  impl: Handler,
  bytes: readonly Buffer[],
): Promise<number> {
  const def = definition[method]!;
  const calls = method === 'Check' ? callsOption : Math.ceil(callsOption / 10);
  const metadata = new Metadata();
  let sink = 0;
  const c0 = process.cpuUsage();
  for (let done = 0; done < calls; ) {
    const chunk = Math.min(64, calls - done);
    const pending: Promise<void>[] = [];
    for (let k = 0; k < chunk; k++) {
      const request = def.requestDeserialize(bytes[(done + k) % bytes.length]!) as Message;
      const call = {
        request,
        metadata,
        getDeadline: () => Infinity,
        sendMetadata: () => {},
      } as unknown as ServerUnaryCall<Message, Message>;
      pending.push(
        new Promise<void>((resolve, reject) =>
          impl(call, (err, value) => {
            if (err) reject(new Error(String(err.details)));
            else {
              sink += def.responseSerialize(value).length;
              resolve();
            }
          }),
        ),
      );
    }
    await Promise.all(pending);
    done += chunk;
  }
  const used = process.cpuUsage(c0);
  if (sink === 0) throw new Error('no responses');
  return ((used.user + used.system) * 1000) / calls;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const method of ['Check', 'CheckBatch'] as const) {
  const bytes = requests(method);
  const ours: number[] = [];
  const floor: number[] = [];
  for (let r = 0; r < rounds; r++) {
    floor.push(await time(method, echo[method]!, bytes));
    ours.push(await time(method, handlers[method]!, bytes));
  }
  const perItem = method === 'CheckBatch' ? Number(values.batch) : 1;
  const g = median(ours) / perItem;
  const e = median(floor) / perItem;
  console.log(
    `${method}: gatehouse ${g.toFixed(0)} ns, echo ${e.toFixed(0)} ns, difference ${(g - e).toFixed(0)} ns per ${
      perItem === 1 ? 'call' : 'item'
    } (CPU, median of ${rounds}, ${dataset.relationshipCount.toLocaleString('en-US')} relationships)`,
  );
}
