// The gRPC transport floor: a bare grpc-js server for GatehouseService whose unary methods decode
// the request with the server's own protobufjs codecs and answer a constant decision, with no
// decision logic behind it.
import * as grpc from '@grpc/grpc-js';
import { gatehouseProtobufServiceDefinition, PERMISSIONSHIP } from '../proto.js';
import { logReady, parseEchoArgs, sleep } from './echo-args.js';

const args = parseEchoArgs(process.argv.slice(2), 'grpc');
const ALLOWED = { permissionship: PERMISSIONSHIP.hasPermission };

function unary<Req>(respond: (request: Req) => unknown): grpc.handleUnaryCall<Req, unknown> {
  return (call, callback) => {
    const reply = (): void => {
      if (args.fail !== undefined) callback({ code: args.fail, details: 'echo server told to fail' });
      else callback(null, respond(call.request));
    };
    if (args.delayMs > 0) setTimeout(reply, args.delayMs);
    else reply();
  };
}

const server = new grpc.Server();
server.addService(gatehouseProtobufServiceDefinition(), {
  Check: unary(() => ALLOWED),
  CheckBatch: unary((request: { items?: unknown[] }) => ({
    results: (request.items ?? []).map(() => ALLOWED),
  })),
  LookupResources: (call: grpc.ServerWritableStream<unknown, unknown>) => {
    void sleep(args.delayMs).then(() => {
      if (args.fail !== undefined)
        call.emit('error', { code: args.fail, details: 'echo server told to fail' });
      else {
        call.write({ resourceObjectIds: [], nextCursor: '' });
        call.end();
      }
    });
  },
});

const address = args.listen;
server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`cannot listen on ${address}: ${err.message}\n`);
    process.exit(1);
  }
  logReady({
    grpc: address.startsWith('unix:') ? address : `${address.slice(0, address.lastIndexOf(':'))}:${port}`,
  });
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
