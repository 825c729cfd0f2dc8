// Test support: a grpc-js client of the server reflection service, built from the reflection
// library's own protos with proto-loader (independent of the server's codecs).
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON; the assertions check their shape
type Any = Record<string, any>;

const LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

/** Sends `requests` on one ServerReflectionInfo stream and resolves to the answers, in order. */
export async function askReflection(
  address: string,
  requests: readonly Any[],
  version: 'v1' | 'v1alpha' = 'v1',
): Promise<Any[]> {
  const require = createRequire(import.meta.url);
  const proto = require.resolve(`@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, LOADER_OPTIONS)) as Any;
  const reflection = new pkg.grpc.reflection[version].ServerReflection(
    address,
    grpc.credentials.createInsecure(),
  );
  try {
    const stream = reflection.ServerReflectionInfo();
    const answers: Any[] = [];
    const done = new Promise<Any[]>((resolve, reject) => {
      stream.on('data', (answer: Any) => answers.push(answer));
      stream.once('end', () => resolve(answers));
      stream.once('error', reject);
    });
    for (const request of requests) stream.write(request);
    stream.end();
    return await done;
  } finally {
    reflection.close();
  }
}

/** A reflection call with byte codecs, for requests the typed client cannot send. */
export function rawReflectionCall(client: grpc.Client): grpc.ClientDuplexStream<Buffer, Buffer> {
  return client.makeBidiStreamRequest(
    '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
    (b: Buffer) => b,
    (b: Buffer) => b,
  );
}
